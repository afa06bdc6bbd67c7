"""The bench's generated flow, made with boto3 instead of the runner, N times
in a row against ENDPOINT_URL (the pinned boto3 of scripts/requirements-python.txt).

Same calls as the runner makes for scripts/bench.sh's moto flow: a pool and
an app client (what the runner's pool fixture creates), SignUp,
AdminConfirmSignUp, InitiateAuth USER_PASSWORD_AUTH, GetUser, then the pool
deleted. Usage: flow.py ENDPOINT_URL N
"""
import sys, uuid

import boto3

endpoint, runs = sys.argv[1], int(sys.argv[2])
idp = boto3.client("cognito-idp", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="test", aws_secret_access_key="test")

for _ in range(runs):
    pool = idp.create_user_pool(PoolName=f"bench-{uuid.uuid4()}")["UserPool"]["Id"]
    client = idp.create_user_pool_client(
        UserPoolId=pool, ClientName="bench",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    username, password = f"ada-{uuid.uuid4()}", f"Bench-{uuid.uuid4().hex[:12]}7k!"
    idp.sign_up(ClientId=client, Username=username, Password=password)
    idp.admin_confirm_sign_up(UserPoolId=pool, Username=username)
    tokens = idp.initiate_auth(ClientId=client, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": username, "PASSWORD": password})
    user = idp.get_user(AccessToken=tokens["AuthenticationResult"]["AccessToken"])
    assert user["Username"] == username, user["Username"]
    idp.delete_user_pool_client(UserPoolId=pool, ClientId=client)
    idp.delete_user_pool(UserPoolId=pool)
