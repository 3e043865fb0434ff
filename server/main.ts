// The process: configuration → service → listen, and the signals. Any start-up failure (bad setting,
// missing model, unavailable execution provider) exits 1 with one line saying what to fix.
import { ConfigError, loadConfig, retiredSettingsIn, type Config } from '../core/config.js';
import { createLogger, startService, type Service } from './service.js';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) exitWith(`configuration error: ${error.message}`);
    throw error;
  }
  const logger = createLogger(config);
  for (const warning of retiredSettingsIn()) logger.warn(warning);
  let service: Service;
  try {
    service = await startService(config, logger);
  } catch (error) {
    exitWith(`start-up failed: ${(error as Error).message}`);
  }
  try {
    await service.listen();
  } catch (error) {
    exitWith(`cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`);
  }

  // SIGHUP reloads the model at MODEL_PATH without downtime, as POST /api/admin/reload does.
  process.on('SIGHUP', () => {
    service.reloader.reload().catch((error: Error) => logger.warn({ reason: error.message }, 'SIGHUP reload did not swap the model'));
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'draining: no new requests; finishing every accepted one');
    try {
      await service.close();
      logger.info('drained; exiting');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

function exitWith(line: string): never {
  process.stderr.write(`${line}\n`);
  process.exit(1);
}

await main();
