import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { ContextValues } from '@connectrpc/connect';
import type { UniversalHandler } from '@connectrpc/connect/protocol';
import { universalRequestFromNodeRequest, universalResponseToNodeResponse } from '@connectrpc/connect-node';

/** `application/grpc-web-text` (and `…-text+proto`): gRPC-Web with every message frame in base64, as Google's grpc-web client sends by default. */
const TEXT = /^application\/grpc-web-text(\+proto)?$/i;

/** Whether a request speaks gRPC-Web text. */
export function isGrpcWebText(contentType: string | undefined): boolean {
  return contentType !== undefined && TEXT.test(contentType.split(';')[0].trim());
}

/**
 * gRPC-Web text for Connect's gRPC-Web handlers, which speak the binary form only: the request's
 * base64 body is decoded and handed over as `application/grpc-web+proto`, and each chunk of the
 * answer (message frames, then the trailer frame) goes back base64-encoded on its own, padded, as
 * gRPC-Web proxies write it and its clients read it. Answers false when no handler has the path.
 */
export async function serveGrpcWebText(
  handlers: ReadonlyMap<string, UniversalHandler>,
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
  contextValues: ContextValues,
  maxBytes: number,
): Promise<boolean> {
  const handler = handlers.get((req.url ?? '').split('?')[0]);
  if (handler === undefined) return false;
  const uReq = universalRequestFromNodeRequest(req, res, undefined, contextValues);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of uReq.body as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > (maxBytes * 4) / 3 + 8) break;
    chunks.push(Buffer.from(chunk));
  }
  const binary = Buffer.from(Buffer.concat(chunks).toString('latin1').replace(/\s+/g, ''), 'base64');
  const header = new Headers(uReq.header);
  header.set('content-type', 'application/grpc-web+proto');
  const uRes = await handler({
    ...uReq,
    header,
    body: (async function* () {
      yield binary;
    })(),
  });
  const resHeader = new Headers(uRes.header);
  if (uRes.status === 200) resHeader.set('content-type', 'application/grpc-web-text+proto');
  const body = uRes.body;
  await universalResponseToNodeResponse(
    {
      ...uRes,
      header: resHeader,
      body:
        body &&
        (async function* () {
          for await (const chunk of body) yield Buffer.from(Buffer.from(chunk).toString('base64'), 'latin1');
        })(),
    },
    res,
  );
  return true;
}
