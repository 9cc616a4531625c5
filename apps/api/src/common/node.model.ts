import { Field, ID, InterfaceType } from '@nestjs/graphql';

/** Relay's Node: every resource has a UUID that `node(id:)` finds. */
@InterfaceType('Node', {
  // Models are class instances, so the class itself names the concrete type.
  resolveType: (value: object) => value.constructor,
  description: "Relay's Node: every resource has a UUID that node(id) finds.",
})
export abstract class NodeModel {
  @Field(() => ID, { description: "The resource's id (a UUID)." })
  id!: string;
}
