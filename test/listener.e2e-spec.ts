import type { AddressInfo } from 'node:net';
import { describeWith } from '@snapdeck/testing';
import { startStack, type Stack } from './support/stack.js';

const METRICS_TOKEN = 'scrape-secret-0123456789';

const boundAddress = (stack: Stack) => (stack.app.getHttpServer().address() as AddressInfo).address;

describeWith(['redis'], 'the listener: HOST and METRICS_TOKEN', () => {
  describe('by default', () => {
    let stack: Stack;
    beforeAll(async () => (stack = await startStack()));
    afterAll(() => stack?.close());

    it('binds loopback only', () => {
      expect(boundAddress(stack)).toBe('127.0.0.1');
    });

    it('serves /metrics without a token', async () => {
      const res = await fetch(`${stack.url}/metrics`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('snapdeck_graphql_request_duration_seconds');
    });
  });

  describe('with HOST=0.0.0.0 and METRICS_TOKEN set', () => {
    let stack: Stack;
    beforeAll(async () => (stack = await startStack({ apiEnv: { HOST: '0.0.0.0', METRICS_TOKEN } })));
    afterAll(() => stack?.close());

    const metrics = (authorization?: string) =>
      fetch(`${stack.url}/metrics`, { headers: authorization ? { authorization } : {} });

    it('binds every IPv4 address', () => {
      expect(boundAddress(stack)).toBe('0.0.0.0');
    });

    it('answers /metrics 401 without the token or with a wrong one, and names the scheme', async () => {
      for (const authorization of [undefined, 'Bearer wrong-token-0123456789', `Basic ${METRICS_TOKEN}`]) {
        const res = await metrics(authorization);
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect(await res.text()).not.toContain('snapdeck_');
      }
    });

    it('serves /metrics with the token', async () => {
      const res = await metrics(`Bearer ${METRICS_TOKEN}`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('snapdeck_graphql_request_duration_seconds');
    });

    it('keeps /health and /ready open', async () => {
      expect((await fetch(`${stack.url}/health`)).status).toBe(200);
      expect((await fetch(`${stack.url}/ready`)).status).toBe(200);
    });
  });
});
