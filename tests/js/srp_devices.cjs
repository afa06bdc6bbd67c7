// USER_SRP_AUTH and seed 002's tracked-device flow, driven against the stub by
// amazon-cognito-identity-js (an SRP client apps really use; pinned in
// scripts/js-clients). Usage: node srp_devices.cjs <endpoint>
// Prints "ok <step>" per step; any failure exits non-zero.
'use strict';
const crypto = require('node:crypto');
const {
  AuthenticationDetails,
  CognitoUser,
  CognitoUserAttribute,
  CognitoUserPool,
} = require('amazon-cognito-identity-js');

const endpoint = process.argv[2].replace(/\/?$/, '/');

// Admin set-up goes straight to the API (the client library has no admin calls);
// the stub only needs a SigV4-shaped Authorization header on admin operations.
async function admin(op, body) {
  const r = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AWSCognitoIdentityProviderService.${op}`,
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/cognito-idp/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: JSON.stringify(body),
  });
  const json = await r.json();
  if (r.status !== 200) throw new Error(`${op}: ${JSON.stringify(json)}`);
  return json;
}

// RFC 6238 TOTP (SHA-1, 6 digits, 30 s) for window `step`.
function totp(secretBase32, step) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secretBase32.replace(/=+$/, '').toUpperCase()) {
    bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  }
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const h = crypto.createHmac('sha1', key).update(counter).digest();
  const o = h[h.length - 1] & 0xf;
  const n = (h.readUInt32BE(o) & 0x7fffffff) % 1000000;
  return String(n).padStart(6, '0');
}
const nowStep = () => Math.floor(Date.now() / 1000 / 30);

// Promise wrappers over the callback API.
function signIn(user, password, handlers = {}) {
  return new Promise((resolve, reject) => {
    user.authenticateUser(
      new AuthenticationDetails({ Username: user.getUsername(), Password: password }),
      {
        onSuccess: (session, confirmationNecessary) =>
          resolve({ kind: 'tokens', session, confirmationNecessary }),
        onFailure: reject,
        mfaSetup: () => resolve({ kind: 'mfaSetup' }),
        totpRequired: () => resolve({ kind: 'totpRequired' }),
        newPasswordRequired: () => resolve({ kind: 'newPasswordRequired' }),
        ...handlers,
      },
    );
  });
}
const call = (fn) =>
  new Promise((resolve, reject) => fn((err, data) => (err ? reject(err) : resolve(data))));

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}

async function main() {
  const { UserPool } = await admin('CreateUserPool', {
    PoolName: 'js-srp-devices',
    AutoVerifiedAttributes: ['email'],
    DeviceConfiguration: { ChallengeRequiredOnNewDevice: true, DeviceOnlyRememberedOnUserPrompt: true },
  });
  await admin('SetUserPoolMfaConfig', {
    UserPoolId: UserPool.Id,
    MfaConfiguration: 'ON',
    SoftwareTokenMfaConfiguration: { Enabled: true },
  });
  const { UserPoolClient } = await admin('CreateUserPoolClient', {
    UserPoolId: UserPool.Id,
    ClientName: 'js',
    ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
  });
  const storage = new Map();
  const Storage = {
    setItem: (k, v) => storage.set(k, v),
    getItem: (k) => (storage.has(k) ? storage.get(k) : null),
    removeItem: (k) => storage.delete(k),
    clear: () => storage.clear(),
  };
  const pool = new CognitoUserPool({
    UserPoolId: UserPool.Id,
    ClientId: UserPoolClient.ClientId,
    endpoint,
    Storage,
  });
  const username = `jo-${crypto.randomUUID()}`;
  const password = `Right-${crypto.randomBytes(6).toString('hex')}5e%`;
  const newUser = () => new CognitoUser({ Username: username, Pool: pool, Storage });

  // 1. Sign up and confirm with the emailed code.
  await call((cb) =>
    pool.signUp(username, password, [new CognitoUserAttribute({ Name: 'email', Value: 'jo@example.com' })], null, cb),
  );
  const code = (await (await fetch(`${endpoint}_stub/code/${UserPool.Id}/${username}`)).json()).code;
  await call((cb) => newUser().confirmRegistration(code, true, cb));
  console.log('ok sign_up_and_confirm');

  // 2. A wrong password fails like USER_PASSWORD_AUTH.
  try {
    await signIn(newUser(), 'Wrong-passw0rd!');
    throw new Error('wrong password signed in');
  } catch (e) {
    check(e.code === 'NotAuthorizedException', `wrong password error: ${e.code} ${e.message}`);
    check(e.message === 'Incorrect username or password.', e.message);
  }
  console.log('ok wrong_password_rejected');

  // 3. Right password (SRP): MFA is required, so enrol TOTP (MFA_SETUP).
  const user = newUser();
  const first = await signIn(user, password);
  check(first.kind === 'mfaSetup', `expected MFA_SETUP, got ${first.kind}`);
  const secret = await new Promise((resolve, reject) =>
    user.associateSoftwareToken({ associateSecretCode: resolve, onFailure: reject }),
  );
  const enrolStep = nowStep();
  await new Promise((resolve, reject) =>
    user.verifySoftwareToken(totp(secret, enrolStep), 'phone', { onSuccess: resolve, onFailure: reject }),
  );
  console.log('ok right_password_and_totp_enrolment');

  // 4. Sign in with password + TOTP; the library confirms the new device.
  const second = newUser();
  const mfa = await signIn(second, password);
  check(mfa.kind === 'totpRequired', `expected SOFTWARE_TOKEN_MFA, got ${mfa.kind}`);
  const signedIn = await new Promise((resolve, reject) =>
    second.sendMFACode(
      totp(secret, enrolStep + 1),
      {
        onSuccess: (session, confirmationNecessary) => resolve({ session, confirmationNecessary }),
        onFailure: reject,
      },
      'SOFTWARE_TOKEN_MFA',
    ),
  );
  check(signedIn.confirmationNecessary === true, 'DeviceOnlyRememberedOnUserPrompt: confirmation necessary');
  second.getCachedDeviceKeyAndPassword();
  const deviceKey = second.deviceKey;
  check(typeof deviceKey === 'string' && deviceKey.startsWith('us-east-1_'), `device key ${deviceKey}`);
  check(signedIn.session.getAccessToken().decodePayload().device_key === deviceKey, 'device_key claim');
  await call((cb) => second.setDeviceStatusRemembered({ onSuccess: (r) => cb(null, r), onFailure: cb }));
  const listed = await call((cb) =>
    second.listDevices(10, null, { onSuccess: (r) => cb(null, r), onFailure: cb }),
  );
  check(listed.Devices.length === 1 && listed.Devices[0].DeviceKey === deviceKey, 'one listed device');
  const status = listed.Devices[0].DeviceAttributes.find((a) => a.Name === 'dev:device_remembered_status');
  check(status && status.Value === 'remembered', `remembered status ${JSON.stringify(listed.Devices[0])}`);
  console.log('ok mfa_sign_in_and_device_remembered');

  // 5. From the remembered device: DEVICE_SRP_AUTH instead of MFA.
  const third = newUser();
  const again = await signIn(third, password);
  check(again.kind === 'tokens', `expected tokens from the remembered device, got ${again.kind}`);
  check(again.session.getAccessToken().decodePayload().device_key === deviceKey, 'same device');
  console.log('ok remembered_device_skips_mfa');

  // 6. Forget the device: MFA comes back.
  await call((cb) => third.forgetDevice({ onSuccess: (r) => cb(null, r), onFailure: cb }));
  const fourth = newUser();
  const back = await signIn(fourth, password);
  check(back.kind === 'totpRequired', `expected MFA after forgetting the device, got ${back.kind}`);
  console.log('ok forgotten_device_needs_mfa');
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  if (e && e.code) console.error(`code: ${e.code}`);
  process.exit(1);
});
