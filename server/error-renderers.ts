// How an error is written in each protocol the service speaks. The error handler (error-handler.ts) decides
// once what an error is (status, code, message, Retry-After); these only give it the protocol's shape.
import { STATUS_CODES } from 'node:http';

/** An error as every protocol sees it, decided in one place. */
export interface ErrorReport {
  status: number;
  /** A code of core/errors.ts ERROR_TABLE (or one of Fastify's FST_ERR_* codes). */
  code: string;
  message: string;
  /** The request's id (x-request-id): in the service's own body; the protocols' bodies keep their shapes. */
  requestId: string;
}

/** 'service': this service's own routes; 'tei': Hugging Face TEI's routes; 'v2': the Open Inference Protocol's. */
export type ErrorFormat = 'service' | 'tei' | 'v2';

/** TEI's ErrorType (its ErrorResponse.error_type), from the status and code. */
export function teiErrorType(report: ErrorReport): 'Unhealthy' | 'Backend' | 'Overloaded' | 'Validation' | 'Tokenizer' | 'Empty' {
  if (report.code === 'SHUTTING_DOWN' || report.code === 'NOT_READY') return 'Unhealthy';
  if (report.status === 429 || report.status === 503) return 'Overloaded';
  if (report.status >= 500) return 'Backend';
  return 'Validation';
}

export const ERROR_RENDERERS: Record<ErrorFormat, (report: ErrorReport) => unknown> = {
  service: (report) => ({ statusCode: report.status, code: report.code, error: STATUS_CODES[report.status] ?? 'Error', message: report.message, requestId: report.requestId }),
  tei: (report) => ({ error: report.message, error_type: teiErrorType(report) }),
  v2: (report) => ({ error: report.message }),
};

/** The format of a path no route matched (its route cannot say): by the protocol its prefix belongs to. */
export function formatForPath(path: string): ErrorFormat {
  return path === '/v2' || path.startsWith('/v2/') ? 'v2' : 'service';
}
