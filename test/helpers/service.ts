// Starts the real service in this process (real workers, real ONNX model, real HTTP on a loopback port),
// with settings given as environment variables, exactly as an operator would set them.
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { loadConfig } from '../../core/config.js';
import { startService, type Service, type ServiceInternals } from '../../server/service.js';

export const FIXTURES = new URL('../fixtures/', import.meta.url).pathname;

export interface TestService {
  url: string;
  service: Service;
  close(): Promise<void>;
}

export async function startTestService(env: Record<string, string> = {}, logger?: Logger, internals?: ServiceInternals): Promise<TestService> {
  const config = loadConfig({
    MODEL_PATH: `${FIXTURES}bert-tiny`,
    HOST: '127.0.0.1',
    PORT: '0',
    WORKERS: '2',
    INTRA_OP_THREADS: '1',
    LOG_LEVEL: 'silent',
    // Off unless a test turns it on: a cached answer would make every "same answer" check pass trivially.
    CACHE_SIZE: '0',
    ...env,
  }, []);
  const service = await startService(config, logger, internals);
  await service.listen();
  const { port } = service.app.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, service, close: () => service.close() };
}

export interface JsonResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** POSTs JSON (or a raw string body) and parses the JSON answer. */
export async function postJson<T = any>(url: string, body: unknown, headers: Record<string, string> = {}): Promise<JsonResponse<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: await response.json() as T };
}

export async function getJson<T = any>(url: string, headers: Record<string, string> = {}): Promise<JsonResponse<T>> {
  const response = await fetch(url, { headers });
  return { status: response.status, headers: response.headers, body: await response.json() as T };
}
