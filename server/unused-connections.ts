// A connection on which the client has sent nothing yet (browsers and proxies open them ahead of need) is not
// idle to Node: server.close() and closeIdleConnections() leave it open for one of Node's timeouts to end, so
// one such connection held a graceful shutdown for minutes. When the server starts
// closing, such connections are ended at once. Nothing is lost: no request was sent on them, and a client
// (a browser, NGINX's proxy_next_upstream) sends its next request on a new connection.
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

export function endUnusedConnectionsOnClose(app: FastifyInstance): void {
  const open = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  app.addHook('preClose', (done) => {
    for (const socket of open) if (socket.bytesRead === 0) socket.destroy();
    done();
  });
}
