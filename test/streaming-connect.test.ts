import { describe, expect, it } from 'vitest';
import { resolveTarget } from '../src/streaming/connect.ts';

describe('Event Hubs target resolution', () => {
  const local = 'Endpoint=sb://localhost:5672;SharedAccessKeyName=any;SharedAccessKey=any;UseDevelopmentEmulator=true';

  it('takes the hub from the flag, else the EntityPath of the connection string', () => {
    expect(resolveTarget('h1', local)).toMatchObject({ hub: 'h1', connectionString: local });
    expect(resolveTarget(undefined, `${local};EntityPath=h2`).hub).toBe('h2');
  });

  it('refuses a malformed connection string with a message naming where it came from', () => {
    expect(() => resolveTarget('h', 'x')).toThrow(/--connection-string or C360_EVENTHUBS_CONNECTION_STRING\) is malformed/);
    expect(() => resolveTarget('h', 'SharedAccessKeyName=a;SharedAccessKey=b')).toThrow(/malformed/);
  });

  it('uses a namespace with DefaultAzureCredential when no connection string is given', () => {
    const saved = process.env.C360_EVENTHUBS_CONNECTION_STRING;
    delete process.env.C360_EVENTHUBS_CONNECTION_STRING;
    try {
      expect(resolveTarget('h', undefined, 'myns')).toEqual({ hub: 'h', connectionString: undefined, namespace: 'myns.servicebus.windows.net' });
    } finally {
      if (saved !== undefined) process.env.C360_EVENTHUBS_CONNECTION_STRING = saved;
    }
  });
});
