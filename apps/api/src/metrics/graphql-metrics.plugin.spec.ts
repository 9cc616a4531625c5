import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import { operationLabel } from './graphql-metrics.plugin.js';

function operationOf(source: string): OperationDefinitionNode {
  const definition = parse(source).definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  return definition as OperationDefinitionNode;
}

describe('operationLabel', () => {
  it('names an operation by its root fields, not by the name the client chose', () => {
    expect(operationLabel(operationOf('mutation Anything { createSnapshot(input: {}) { job { id } } }'))).toBe(
      'createSnapshot',
    );
    expect(operationLabel(operationOf('{ viewer { id } hosts { totalCount } viewer2: viewer { id } }'))).toBe(
      'hosts,viewer',
    );
  });

  it('bounds the label values a client can produce', () => {
    expect(operationLabel(operationOf('{ a b c d }'))).toBe('multiple');
    expect(operationLabel(operationOf('{ ...F } fragment F on Query { a }'))).toBe('fragment');
    expect(operationLabel(null)).toBe('invalid');
  });
});
