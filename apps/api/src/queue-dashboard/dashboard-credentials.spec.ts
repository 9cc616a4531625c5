import { dashboardToken } from './dashboard-credentials.js';

const basic = (userPass: string) => `Basic ${Buffer.from(userPass, 'utf8').toString('base64')}`;

describe('dashboardToken', () => {
  it('takes a bearer token', () => {
    expect(dashboardToken('Bearer sdk_abc')).toBe('sdk_abc');
    expect(dashboardToken('bearer sdk_abc ')).toBe('sdk_abc');
  });

  it('takes the password of Basic auth, whatever the user name', () => {
    expect(dashboardToken(basic('admin:sdk_abc'))).toBe('sdk_abc');
    expect(dashboardToken(basic(':sdk_abc'))).toBe('sdk_abc');
    expect(dashboardToken(basic('ops@example.test:sdk_a:b'))).toBe('sdk_a:b');
    expect(dashboardToken(`basic ${Buffer.from('x:sdk_abc').toString('base64')}`)).toBe('sdk_abc');
  });

  it('reads the first header when several are sent', () => {
    expect(dashboardToken(['Bearer first', 'Bearer second'])).toBe('first');
  });

  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['a bare scheme', 'Bearer'],
    ['Basic auth without a password', basic('sdk_abc:')],
    ['Basic auth without a colon', basic('sdk_abc')],
    ['Basic auth that is not base64', 'Basic ***'],
    ['another scheme', 'Digest username="x"'],
  ])('finds no token in %s', (_what, header) => {
    expect(dashboardToken(header)).toBeNull();
  });
});
