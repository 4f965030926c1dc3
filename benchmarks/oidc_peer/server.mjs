// The peer of regie's SSO benchmark (benchmarks/sso.py): node's oidc-provider, configured
// minimally and as alike to the hub's client as it allows.
//
// One client (client_secret_basic, PKCE with S256 required, ES256 ID tokens, the benchmark's
// redirect URI), the built-in in-memory adapter, a findAccount returning a fixed account, and
// loadExistingGrant granting `openid` so that a logged-in session launches without a consent
// screen. A session is established once per benchmark client through /interaction/:uid, which
// logs the interaction in at once (as `login_hint`, or a fixed account) — the benchmark's
// warm-up launch; every later launch is authorize → code → token → userinfo.
//
//   PEER_CLIENT_SECRET=... node server.mjs PORT CLIENT_ID REDIRECT_URI
//
// Prints "ready" on standard output once listening.

import * as crypto from 'node:crypto';
import * as http from 'node:http';

import Provider from 'oidc-provider';

const [port, clientId, redirectUri] = process.argv.slice(2);
const clientSecret = process.env.PEER_CLIENT_SECRET; // not on the command line
if (!redirectUri || !clientSecret) {
  console.error('usage: PEER_CLIENT_SECRET=... node server.mjs PORT CLIENT_ID REDIRECT_URI');
  process.exit(2);
}

const FIXED_ACCOUNT = 'benchmark-pupil';
const signingKey = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const jwk = { ...signingKey.export({ format: 'jwk' }), alg: 'ES256', use: 'sig', kid: 'peer-es256' };

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'ES256',
    },
  ],
  jwks: { keys: [jwk] },
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, sub) {
    return { accountId: sub, async claims() { return { sub }; } };
  },
  async loadExistingGrant(ctx) {
    const { client, session, provider: current } = ctx.oidc;
    const grantId = ctx.oidc.result?.consent?.grantId || session.grantIdFor(client.clientId);
    if (grantId) {
      const found = await current.Grant.find(grantId);
      if (found) return found;
    }
    const grant = new current.Grant({ clientId: client.clientId, accountId: session.accountId });
    grant.addOIDCScope('openid');
    await grant.save();
    session.grantIdFor(client.clientId, grant.jti);
    return grant;
  },
});

provider.on('server_error', (ctx, error) => console.error('server_error', error));

const handle = provider.callback();

async function interaction(req, res) {
  try {
    const details = await provider.interactionDetails(req, res);
    const accountId = details.params.login_hint || FIXED_ACCOUNT;
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId } },
      { mergeWithLastSubmission: false },
    );
  } catch (error) {
    res.statusCode = 400;
    res.end(String(error));
  }
}

http
  .createServer((req, res) => {
    if (req.url.startsWith('/interaction/')) {
      interaction(req, res);
    } else {
      handle(req, res);
    }
  })
  .listen(Number(port), '127.0.0.1', () => console.log('ready'));
