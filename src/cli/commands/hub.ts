// `c360 hub`: the local Event Hubs endpoint (AMQP 1.0 on rhea) for demos and tests, since the official emulator
// needs Docker. The real @azure/event-hubs client connects with the printed connection string.
import { startHub } from '../../streaming/hub/local-hub.ts';
import { int, str, type Command } from '../command.ts';

export const command: Command = {
  name: 'hub',
  summary: 'Run a local Event Hubs endpoint (AMQP) that the real client talks to; any hub name works',
  options: {
    port: { type: 'string', description: 'TCP port (0: any free port)', default: '5672' },
    host: { type: 'string', description: 'Interface to listen on', default: '127.0.0.1' },
    partitions: { type: 'string', description: 'Partitions of each hub', default: '4' },
    data: { type: 'string', description: 'Persist partition logs in this folder (default: memory only)' },
    json: { type: 'boolean', description: 'JSON log lines even on a terminal' },
  },
  async run(values, _p, io) {
    const partitions = int(values, 'partitions', 4);
    const hub = await startHub({
      port: int(values, 'port', 5672),
      host: str(values, 'host'),
      partitions,
      dataDir: str(values, 'data'),
      onLog: (msg, fields) => io.log.debug(msg, fields),
    });
    io.log.info('local Event Hubs endpoint listening', { port: hub.port, partitions, data: str(values, 'data') ?? 'memory' });
    io.out(hub.connectionString);
    await new Promise<void>((resolve) => {
      process.once('SIGTERM', resolve);
      process.once('SIGINT', resolve);
    });
    await hub.close();
    return 0;
  },
};
