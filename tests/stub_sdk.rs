//! The stub driven by the official AWS SDK for Rust (typed builders,
//! SigV4 on admin operations, the SDK's own parsers for bodies and errors).

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::config::retry::RetryConfig;
use aws_sdk_cognitoidentityprovider::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::{
    AttributeType, AuthFlowType, ChallengeNameType, ExplicitAuthFlowsType, MessageActionType,
    SoftwareTokenMfaConfigType, UserPoolMfaType, UserStatusType,
};
use cognito_scenarios::auth::totp;
use cognito_scenarios::stub::{Stub, StubOptions};

fn sdk(endpoint: &str) -> Client {
    let config = aws_sdk_cognitoidentityprovider::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .retry_config(RetryConfig::disabled())
        .build();
    Client::from_conf(config)
}

#[tokio::test]
async fn sdk_round_trip_new_password_and_mfa() {
    let stub = Stub::start(StubOptions::default()).await.unwrap();
    let c = sdk(&stub.endpoint());

    let pool = c.create_user_pool().pool_name("sdk").send().await.unwrap();
    let pool = pool.user_pool().unwrap();
    let pool_id = pool.id().unwrap().to_string();
    assert!(pool.creation_date().is_some());
    assert_eq!(pool.mfa_configuration(), Some(&UserPoolMfaType::Off));

    c.set_user_pool_mfa_config()
        .user_pool_id(&pool_id)
        .mfa_configuration(UserPoolMfaType::On)
        .software_token_mfa_configuration(
            SoftwareTokenMfaConfigType::builder().enabled(true).build(),
        )
        .send()
        .await
        .unwrap();

    let client = c
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name("app")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowAdminUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .send()
        .await
        .unwrap();
    let client_id = client
        .user_pool_client()
        .unwrap()
        .client_id()
        .unwrap()
        .to_string();

    let created = c
        .admin_create_user()
        .user_pool_id(&pool_id)
        .username("sdkuser")
        .temporary_password("Temp-pass1!")
        .message_action(MessageActionType::Suppress)
        .user_attributes(
            AttributeType::builder()
                .name("email")
                .value("sdk@example.com")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        created.user().unwrap().user_status(),
        Some(&UserStatusType::ForceChangePassword)
    );

    let err = c
        .admin_initiate_auth()
        .user_pool_id(&pool_id)
        .client_id(&client_id)
        .auth_flow(AuthFlowType::AdminUserPasswordAuth)
        .auth_parameters("USERNAME", "sdkuser")
        .auth_parameters("PASSWORD", "wrong")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("NotAuthorizedException"));
    assert_eq!(err.message(), Some("Incorrect username or password."));

    let start = c
        .admin_initiate_auth()
        .user_pool_id(&pool_id)
        .client_id(&client_id)
        .auth_flow(AuthFlowType::AdminUserPasswordAuth)
        .auth_parameters("USERNAME", "sdkuser")
        .auth_parameters("PASSWORD", "Temp-pass1!")
        .send()
        .await
        .unwrap();
    assert_eq!(
        start.challenge_name(),
        Some(&ChallengeNameType::NewPasswordRequired)
    );

    let setup = c
        .admin_respond_to_auth_challenge()
        .user_pool_id(&pool_id)
        .client_id(&client_id)
        .challenge_name(ChallengeNameType::NewPasswordRequired)
        .session(start.session().unwrap())
        .challenge_responses("USERNAME", "sdkuser")
        .challenge_responses("NEW_PASSWORD", "New-passw0rd")
        .send()
        .await
        .unwrap();
    assert_eq!(setup.challenge_name(), Some(&ChallengeNameType::MfaSetup));

    let assoc = c
        .associate_software_token()
        .session(setup.session().unwrap())
        .send()
        .await
        .unwrap();
    let secret = assoc.secret_code().unwrap().to_string();
    let code = totp::code_for_step(&secret, totp::step_of(stub.clock().now_secs())).unwrap();
    let verified = c
        .verify_software_token()
        .session(assoc.session().unwrap())
        .user_code(code)
        .send()
        .await
        .unwrap();
    let done = c
        .respond_to_auth_challenge()
        .client_id(&client_id)
        .challenge_name(ChallengeNameType::MfaSetup)
        .session(verified.session().unwrap())
        .challenge_responses("USERNAME", "sdkuser")
        .send()
        .await
        .unwrap();
    let result = done.authentication_result().unwrap();
    assert_eq!(result.token_type(), Some("Bearer"));
    assert_eq!(result.expires_in(), 3600);

    let me = c
        .get_user()
        .access_token(result.access_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(me.username(), "sdkuser");
    assert_eq!(
        me.user_mfa_setting_list(),
        ["SOFTWARE_TOKEN_MFA".to_string()]
    );

    let users = c.list_users().user_pool_id(&pool_id).send().await.unwrap();
    assert_eq!(users.users().len(), 1);
    assert!(users.users()[0].user_create_date().is_some());

    let missing = c
        .describe_user_pool()
        .user_pool_id("us-east-1_missing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Some("ResourceNotFoundException"));
    assert!(
        missing
            .into_service_error()
            .is_resource_not_found_exception()
    );
}
