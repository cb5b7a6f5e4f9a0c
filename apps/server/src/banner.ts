/** What dev mode prints on start: where things are and copy-paste calls for the whole Konnect flow. */
export function devModeBanner(options: {
  url: string;
  apiKey: string;
  generatedApiKey: boolean;
  basePath: string;
  issuer: string;
}): string {
  const dcr = `${options.url}${options.basePath === '/' ? '' : options.basePath.replace(/\/$/, '')}`;
  // A key the operator gave is theirs to keep out of terminals and logs: only a generated one is printed.
  const key = options.generatedApiKey ? `-H 'X-API-KEY: ${options.apiKey}'` : `-H "X-API-KEY: $KEY"`;
  const json = `-H 'Content-Type: application/json'`;
  const app = JSON.stringify({
    client_name: 'My app',
    application_description: 'Created from the dev mode banner',
    redirect_uris: ['https://app.example.com/callback'],
    grant_types: ['client_credentials'],
    scopes: [],
    token_endpoint_auth_method: 'client_secret_post',
    portal_id: 'test portal_id',
    organization_id: 'org',
    developer_id: 'dev',
    auth_strategy_id: 'strategy',
    dcr_provider_id: 'provider',
  });
  const event = (clientId: string) =>
    JSON.stringify({
      event_type: 'update_application',
      client_id: clientId,
      redirect_uris: ['https://app.example.com/new-callback'],
      application_id: 'app',
      application_name: 'My app',
      application_description: '',
      portal_id: 'portal',
      organization_id: 'org',
      developer_id: 'dev',
      auth_strategy_id: 'strategy',
      dcr_provider_id: 'provider',
    });
  return `
================================================================================
 dcr-bridge DEV MODE: NOT FOR PRODUCTION
 An in-memory OpenID Provider runs inside this process; every client is lost
 at restart. Set DCR_BRIDGE_ADAPTER (and its settings) to bridge a real IdP.
================================================================================
 DCR API (Konnect's dcr_base_url): ${dcr}
 API key (X-API-KEY):             ${options.generatedApiKey ? `${options.apiKey}   (generated; set DCR_BRIDGE_API_KEYS to choose)` : 'a key of DCR_BRIDGE_API_KEYS (not printed)'}
 Dev IdP issuer:                  ${options.issuer}
 Dev IdP discovery:               ${options.issuer}/.well-known/openid-configuration
 Health:                          ${options.url}/healthz  ${options.url}/readyz

 Try it (curl and node):${
   options.generatedApiKey
     ? ''
     : `
   KEY='…'   # a key of DCR_BRIDGE_API_KEYS`
 }
   # 1. what Konnect does when a developer creates an application
   APP=$(curl -s ${key} ${json} -d '${app}' ${dcr}/); echo "$APP"
   CLIENT_ID=$(echo "$APP" | node -pe 'JSON.parse(require("fs").readFileSync(0)).client_id')
   SECRET=$(echo "$APP" | node -pe 'JSON.parse(require("fs").readFileSync(0)).client_secret')
   # 2. the application gets a token from the IdP with those credentials
   curl -s -d grant_type=client_credentials -d client_id="$CLIENT_ID" -d client_secret="$SECRET" ${options.issuer}/token
   # 3. the developer refreshes the secret (the old one stops working: repeat step 2 to see)
   curl -s -X POST ${key} ${dcr}/$CLIENT_ID/new-secret
   # 4. the developer changes the redirect URIs
   curl -s ${key} ${json} -d "$(echo '${event('CLIENT_ID_HERE')}' | sed "s/CLIENT_ID_HERE/$CLIENT_ID/")" ${dcr}/$CLIENT_ID/event-hook
   # 5. the developer deletes the application
   curl -s -o /dev/null -w '%{http_code}\\n' -X DELETE ${key} ${dcr}/$CLIENT_ID
================================================================================
`;
}
