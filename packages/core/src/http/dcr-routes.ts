import type express from 'express';
import { operationSupport } from '../capabilities.js';
import type { DcrAdapter } from '../contract.js';
import { eventReferences, type AdapterCalls } from './adapter-calls.js';
import { methodNotAllowed, noStore, requireJson } from './middleware.js';
import { parseClientId, parseEvent, parseRegistration } from './payloads.js';
import { scope } from './request-scope.js';

/**
 * # Konnect's four operations
 *
 *   POST   /                      create a client          → 201 {client_id, client_secret, …}
 *   DELETE /{clientId}            delete it                → 204 (also when already gone)
 *   POST   /{clientId}/new-secret rotate its secret        → 200 {client_id, client_secret}
 *   POST   /{clientId}/event-hook apply a lifecycle event  → 200
 *
 * Each handler parses its payload, decides whether the adapter supports the operation (`operationSupport`), runs
 * it through `calls` and answers; any other method on these paths is a 405. Added to `dcr`, the router behind
 * the API key.
 */
export function routeOperations(dcr: express.Router, adapter: DcrAdapter, calls: AdapterCalls, jsonBody: express.RequestHandler): void {
  const { call, audit } = calls;

  dcr
    .route('/')
    .post(requireJson, jsonBody, async (req, res) => {
      const registration = parseRegistration(req.body);
      const { portalId, organizationId, developerId } = registration.konnect;
      const created = await call(
        res,
        'createClient',
        { konnect: { portalId, organizationId, developerId } },
        (context) => adapter.createClient(registration, context),
        (result) => result.clientId,
      );
      noStore(res)
        .status(201)
        .json({
          client_id: created.clientId,
          client_secret: created.clientSecret,
          client_id_issued_at: (created.clientIdIssuedAt ?? new Date()).toISOString(),
          ...(created.clientSecretExpiresAt ? { client_secret_expires_at: created.clientSecretExpiresAt.toISOString() } : {}),
        });
    })
    .all(methodNotAllowed('POST'));

  dcr
    .route('/:clientId')
    .delete(async (req, res) => {
      const clientId = parseClientId(req.params.clientId);
      await call(res, 'deleteClient', { clientId }, (context) => adapter.deleteClient(clientId, context));
      res.status(204).end();
    })
    .all(methodNotAllowed('DELETE'));

  dcr
    .route('/:clientId/new-secret')
    .post(async (req, res) => {
      const clientId = parseClientId(req.params.clientId);
      const support = operationSupport(adapter, { type: 'rotate_secret' });
      if (support.action === 'refuse') throw support.error;
      const rotate = adapter.rotateSecret!.bind(adapter);
      const rotated = await call(res, 'rotateSecret', { clientId }, (context) => rotate(clientId, context));
      noStore(res).status(200).json({ client_id: rotated.clientId, client_secret: rotated.clientSecret });
    })
    .all(methodNotAllowed('POST'));

  dcr
    .route('/:clientId/event-hook')
    .post(requireJson, jsonBody, async (req, res) => {
      const clientId = parseClientId(req.params.clientId);
      const event = parseEvent(req.body, clientId);
      const support = operationSupport(adapter, event);
      if (support.action === 'call') {
        const apply = adapter.applyEvent!.bind(adapter);
        await call(res, `applyEvent(${event.type})`, { clientId, konnect: eventReferences(event) }, (context) =>
          apply(clientId, event, context),
        );
      } else if (support.action === 'refuse') {
        throw support.error;
      } else {
        // Acknowledged: the adapter has no audience registrations (or the product no audience); nothing changes.
        audit(
          scope(res),
          `applyEvent(${event.type})`,
          'acknowledged',
          { clientId, konnect: eventReferences(event) },
          performance.now(),
          200,
        );
      }
      res.status(200).json({});
    })
    .all(methodNotAllowed('POST'));
}
