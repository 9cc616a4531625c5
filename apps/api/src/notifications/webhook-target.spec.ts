import { DomainError, ErrorCode } from '@snapdeck/domain';
import { checkWebhookTarget, checkWebhookUrlInput, RefusedTarget, type Resolve } from './webhook-target.js';

const answers =
  (addresses: string[]): Resolve =>
  () =>
    Promise.resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));

describe('checkWebhookTarget', () => {
  it('takes a name whose every address is public, and pins the first', async () => {
    const target = await checkWebhookTarget(
      'https://hooks.example.com/x',
      false,
      answers(['93.184.215.14', '2606:2800::1']),
    );
    expect(target).toMatchObject({ address: '93.184.215.14', family: 4 });
    expect(target.url.hostname).toBe('hooks.example.com');
  });

  it('refuses a name when ANY of its addresses is private (DNS picks, not us)', async () => {
    await expect(
      checkWebhookTarget('https://hooks.example.com/x', false, answers(['93.184.215.14', '10.0.0.7'])),
    ).rejects.toThrow(/10\.0\.0\.7, a private address/);
    await expect(checkWebhookTarget('https://h.example.com/', false, answers(['::ffff:127.0.0.1']))).rejects.toThrow(
      /loopback/,
    );
  });

  it('judges IP literals without DNS, IPv6 in brackets included', async () => {
    const never: Resolve = () => Promise.reject(new Error('no DNS for literals'));
    await expect(checkWebhookTarget('http://[fd00::1]:8080/', false, never)).rejects.toThrow(/unique-local/);
    await expect(checkWebhookTarget('http://[2606:4700::1111]/', false, never)).resolves.toMatchObject({ family: 6 });
  });

  it('lets private addresses through only when allowed', async () => {
    await expect(checkWebhookTarget('http://internal.test/', true, answers(['192.168.1.2']))).resolves.toMatchObject({
      address: '192.168.1.2',
    });
  });

  it('refuses a name that does not resolve, and URLs that are not http(s) or carry credentials', async () => {
    const fails: Resolve = () => Promise.reject(Object.assign(new Error('nx'), { code: 'ENOTFOUND' }));
    await expect(checkWebhookTarget('https://nowhere.test/', false, fails)).rejects.toThrow(
      /does not resolve \(ENOTFOUND\)/,
    );
    await expect(checkWebhookTarget('https://empty.test/', false, answers([]))).rejects.toBeInstanceOf(RefusedTarget);
    await expect(checkWebhookTarget('file:///etc/passwd', false)).rejects.toThrow(/http or https/);
    await expect(checkWebhookTarget('https://a:b@example.com/', false)).rejects.toThrow(/credentials/);
  });

  it('answers a client with BAD_USER_INPUT naming url', async () => {
    const error = await checkWebhookUrlInput('https://x.test/', false, answers(['127.0.0.1'])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: ErrorCode.BAD_USER_INPUT, details: { field: 'url' } });
  });
});
