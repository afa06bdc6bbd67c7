"""Bundled flows 1-3 driven by boto3 against the standalone stub.

Proves the stub against a real AWS SDK's serializers and parsers (not only
our own runner). TOTP codes are computed here with the standard library,
independently of the Rust implementation. Usage: flows.py ENDPOINT_URL
"""
import base64, hashlib, hmac, json, struct, sys, time, urllib.request, uuid

import boto3
from botocore.exceptions import ClientError

endpoint = sys.argv[1]
idp = boto3.client("cognito-idp", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="test", aws_secret_access_key="test")


def totp(secret, step):
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1000000)


def secret_hash(secret, username, client_id):
    mac = hmac.new(secret.encode(), (username + client_id).encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def expect_error(error_code, fn, **kwargs):
    try:
        fn(**kwargs)
    except ClientError as e:
        assert e.response["Error"]["Code"] == error_code, e.response["Error"]
        return e.response["Error"]
    raise AssertionError(f"expected {error_code}")


def pool(**params):
    pool_id = idp.create_user_pool(PoolName="boto3-" + uuid.uuid4().hex[:8], **params)["UserPool"]["Id"]
    return pool_id


def flow1_new_password():
    pool_id = pool()
    c = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="c", GenerateSecret=True,
                                    ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    client_id, secret = c["UserPoolClient"]["ClientId"], c["UserPoolClient"]["ClientSecret"]
    user = "jane-" + uuid.uuid4().hex
    idp.admin_create_user(UserPoolId=pool_id, Username=user, TemporaryPassword="Temp-Passw0rd!", MessageAction="SUPPRESS")
    auth = dict(UserPoolId=pool_id, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH")
    expect_error("NotAuthorizedException", idp.admin_initiate_auth,
                 AuthParameters={"USERNAME": user, "PASSWORD": "Temp-Passw0rd!"}, **auth)  # no SECRET_HASH
    r = idp.admin_initiate_auth(AuthParameters={"USERNAME": user, "PASSWORD": "Temp-Passw0rd!",
                                                "SECRET_HASH": secret_hash(secret, user, client_id)}, **auth)
    assert r["ChallengeName"] == "NEW_PASSWORD_REQUIRED", r
    r = idp.admin_respond_to_auth_challenge(
        UserPoolId=pool_id, ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=r["Session"],
        ChallengeResponses={"USERNAME": user, "NEW_PASSWORD": "Perm-Passw0rd!",
                            "SECRET_HASH": secret_hash(secret, user, client_id)})
    tokens = r["AuthenticationResult"]
    assert claims(tokens["AccessToken"])["token_use"] == "access"
    assert claims(tokens["IdToken"])["cognito:username"] == user
    assert idp.get_user(AccessToken=tokens["AccessToken"])["Username"] == user
    idp.delete_user_pool(UserPoolId=pool_id)


def flow2_sign_up():
    pool_id = pool(AutoVerifiedAttributes=["email"])
    client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="c",
                                            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    user = "sam-" + uuid.uuid4().hex
    r = idp.sign_up(ClientId=client_id, Username=user, Password="Signup-Passw0rd!",
                    UserAttributes=[{"Name": "email", "Value": "sam@example.com"}])
    assert r["UserConfirmed"] is False and r["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL", r
    idp.resend_confirmation_code(ClientId=client_id, Username=user)
    with urllib.request.urlopen(f"{endpoint}/_stub/code/{pool_id}/{user}") as resp:
        code = json.load(resp)["code"]
    expect_error("CodeMismatchException", idp.confirm_sign_up, ClientId=client_id, Username=user, ConfirmationCode=code + "0")
    idp.confirm_sign_up(ClientId=client_id, Username=user, ConfirmationCode=code)
    assert idp.admin_get_user(UserPoolId=pool_id, Username=user)["UserStatus"] == "CONFIRMED"
    users = idp.list_users(UserPoolId=pool_id, Filter=f'username = "{user}"')["Users"]
    assert [u["Username"] for u in users] == [user], users
    idp.delete_user_pool(UserPoolId=pool_id)


def flow3_totp_mfa():
    pool_id = pool()
    idp.set_user_pool_mfa_config(UserPoolId=pool_id, MfaConfiguration="ON",
                                 SoftwareTokenMfaConfiguration={"Enabled": True})
    client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="c",
                                            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    user, password = "max-" + uuid.uuid4().hex, "Mfa-Passw0rd!"
    idp.admin_create_user(UserPoolId=pool_id, Username=user, MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool_id, Username=user, Password=password, Permanent=True)
    sign_in = lambda: idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                        AuthParameters={"USERNAME": user, "PASSWORD": password})
    r = sign_in()
    assert r["ChallengeName"] == "MFA_SETUP", r
    a = idp.associate_software_token(Session=r["Session"])
    secret = a["SecretCode"]
    step = int(time.time()) // 30
    expect_error("EnableSoftwareTokenMFAException", idp.verify_software_token,
                 Session=a["Session"], UserCode=totp(secret, step - 20))
    r = sign_in()  # the failed verification spent the session: start again
    a = idp.associate_software_token(Session=r["Session"])
    secret = a["SecretCode"]
    v = idp.verify_software_token(Session=a["Session"], UserCode=totp(secret, step))
    assert v["Status"] == "SUCCESS", v
    r = idp.respond_to_auth_challenge(ClientId=client_id, ChallengeName="MFA_SETUP", Session=v["Session"],
                                      ChallengeResponses={"USERNAME": user})
    assert "AccessToken" in r["AuthenticationResult"], r
    r = sign_in()
    assert r["ChallengeName"] == "SOFTWARE_TOKEN_MFA", r
    answer = lambda session, code: idp.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session=session,
        ChallengeResponses={"USERNAME": user, "SOFTWARE_TOKEN_MFA_CODE": code})
    # This window's code was used at enrolment: refused. The next window's code is within AWS's +-30 s skew.
    expect_error("ExpiredCodeException", answer, session=r["Session"], code=totp(secret, step))
    r = sign_in()
    tokens = answer(r["Session"], totp(secret, step + 1))["AuthenticationResult"]
    assert claims(tokens["AccessToken"])["username"] == user
    idp.delete_user_pool(UserPoolId=pool_id)


for flow in (flow1_new_password, flow2_sign_up, flow3_totp_mfa):
    flow()
    print(f"ok {flow.__name__}")
