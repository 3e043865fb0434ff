// Response compression (COMPRESSION, on by default): br or gzip, as the client's Accept-Encoding prefers,
// for answers of COMPRESSION_THRESHOLD_BYTES or more (a batch of predictions, the OpenAPI document, /metrics)
// and for NDJSON streams, compressed chunk by chunk as they are written, never held back to the end.
//
// The service compresses rather than NGINX: Debian's NGINX has no brotli, direct deployments (npm start, a
// Kubernetes Service) get it too, and a single prediction (about 200 bytes) stays under the threshold, so
// the hot path pays only the plugin's checks of each answer (what they cost: `--accept-encoding` in
// bench/README.md). NGINX passes the encoded answers through (nginx.conf).
import { constants } from 'node:zlib';
import compress from '@fastify/compress';
import type { FastifyInstance } from 'fastify';

/** Below about one TCP segment, compressing saves no packet and costs CPU. */
export const COMPRESSION_THRESHOLD_BYTES = 1024;

/** The default's compressible types, plus NDJSON (application/x-ndjson), which neither it nor mime-db knows. */
const COMPRESSIBLE = /^text\/(?!event-stream)|(?:\+|\/)(?:x-nd)?json(?:;|$)|(?:\+|\/)(?:xml|yaml|x-yaml)(?:;|$)/;

export async function registerCompression(app: FastifyInstance, enabled: boolean): Promise<void> {
  if (!enabled) return;
  await app.register(compress, {
    // Registered before the routes: the plugin adds its onSend hook to each route as it is declared.
    global: true,
    encodings: ['br', 'gzip'],
    threshold: COMPRESSION_THRESHOLD_BYTES,
    customTypes: COMPRESSIBLE,
    // Every chunk written to a compressing stream is flushed at once: an NDJSON stream's answers reach the
    // client as they are written (one flush per run of lines, as the route writes them). Whole bodies are
    // compressed in one call, where the flush mode changes nothing.
    zlibOptions: { flush: constants.Z_SYNC_FLUSH },
    brotliOptions: { flush: constants.BROTLI_OPERATION_FLUSH, params: { [constants.BROTLI_PARAM_QUALITY]: 4 } },
    // Request bodies are left as they come: no client of these protocols compresses them, and the plugin's
    // inflating would add errors outside the error table.
    globalDecompression: false,
  });
}
