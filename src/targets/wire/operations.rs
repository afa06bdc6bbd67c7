//! The dispatch from an API name to the SDK's typed fluent builder (one line
//! per operation). The names themselves, which are unsigned and the
//! did-you-mean live in [`crate::api`]; a test checks both lists agree.
//!
//! The table was generated from aws-sdk-cognitoidentityprovider 1.144's
//! `src/operation/` directory: every name is the string the SDK itself puts in
//! `X-Amz-Target` (its operation metadata), never a guess from the snake-case
//! method name. A test sends every entry and compares the received target.

use aws_sdk_cognitoidentityprovider::Client;

use super::response::{Capture, RequestBody, SendFailure, settle};

/// Generates [`ALL`] and [`dispatch`] from one `op!(ApiName, sdk_method);` line per operation.
macro_rules! operations {
    ($( op!($name:literal, $method:ident); )*) => {
        /// The operation names this table dispatches (equal to [`crate::api::OPERATIONS`]).
        #[cfg(test)]
        pub(super) const ALL: &[&str] = &[$($name),*];

        /// Sends `op` through its typed fluent builder with the body replaced by
        /// `body` and the raw response recorded in `capture`.
        /// `None` when `op` is not an exact operation name.
        pub(super) async fn dispatch(
            client: &Client,
            op: &str,
            body: RequestBody,
            capture: Capture,
        ) -> Option<Result<(), SendFailure>> {
            Some(match op {
                $(
                    $name => settle(
                        client
                            .$method()
                            .customize()
                            .mutate_request(move |req| body.apply(req))
                            .interceptor(capture)
                            .send()
                            .await,
                    ),
                )*
                _ => return None,
            })
        }
    };
}

operations! {
    op!("AddCustomAttributes", add_custom_attributes);
    op!("AddUserPoolClientSecret", add_user_pool_client_secret);
    op!("AdminAddUserToGroup", admin_add_user_to_group);
    op!("AdminConfirmSignUp", admin_confirm_sign_up);
    op!("AdminCreateUser", admin_create_user);
    op!("AdminDeleteSoftwareToken", admin_delete_software_token);
    op!("AdminDeleteUser", admin_delete_user);
    op!("AdminDeleteUserAttributes", admin_delete_user_attributes);
    op!("AdminDisableProviderForUser", admin_disable_provider_for_user);
    op!("AdminDisableUser", admin_disable_user);
    op!("AdminEnableUser", admin_enable_user);
    op!("AdminForgetDevice", admin_forget_device);
    op!("AdminGetDevice", admin_get_device);
    op!("AdminGetUser", admin_get_user);
    op!("AdminGetUserAuthFactors", admin_get_user_auth_factors);
    op!("AdminInitiateAuth", admin_initiate_auth);
    op!("AdminLinkProviderForUser", admin_link_provider_for_user);
    op!("AdminListDevices", admin_list_devices);
    op!("AdminListGroupsForUser", admin_list_groups_for_user);
    op!("AdminListUserAuthEvents", admin_list_user_auth_events);
    op!("AdminRemoveUserFromGroup", admin_remove_user_from_group);
    op!("AdminResetUserPassword", admin_reset_user_password);
    op!("AdminRespondToAuthChallenge", admin_respond_to_auth_challenge);
    op!("AdminSetUserMFAPreference", admin_set_user_mfa_preference);
    op!("AdminSetUserPassword", admin_set_user_password);
    op!("AdminSetUserSettings", admin_set_user_settings);
    op!("AdminUpdateAuthEventFeedback", admin_update_auth_event_feedback);
    op!("AdminUpdateDeviceStatus", admin_update_device_status);
    op!("AdminUpdateUserAttributes", admin_update_user_attributes);
    op!("AdminUserGlobalSignOut", admin_user_global_sign_out);
    op!("AssociateSoftwareToken", associate_software_token);
    op!("ChangePassword", change_password);
    op!("CompleteWebAuthnRegistration", complete_web_authn_registration);
    op!("ConfirmDevice", confirm_device);
    op!("ConfirmForgotPassword", confirm_forgot_password);
    op!("ConfirmSignUp", confirm_sign_up);
    op!("CreateGroup", create_group);
    op!("CreateIdentityProvider", create_identity_provider);
    op!("CreateManagedLoginBranding", create_managed_login_branding);
    op!("CreateResourceServer", create_resource_server);
    op!("CreateTerms", create_terms);
    op!("CreateUserImportJob", create_user_import_job);
    op!("CreateUserPool", create_user_pool);
    op!("CreateUserPoolClient", create_user_pool_client);
    op!("CreateUserPoolDomain", create_user_pool_domain);
    op!("CreateUserPoolReplica", create_user_pool_replica);
    op!("DeleteGroup", delete_group);
    op!("DeleteIdentityProvider", delete_identity_provider);
    op!("DeleteManagedLoginBranding", delete_managed_login_branding);
    op!("DeleteResourceServer", delete_resource_server);
    op!("DeleteTerms", delete_terms);
    op!("DeleteUser", delete_user);
    op!("DeleteUserAttributes", delete_user_attributes);
    op!("DeleteUserPool", delete_user_pool);
    op!("DeleteUserPoolClient", delete_user_pool_client);
    op!("DeleteUserPoolClientSecret", delete_user_pool_client_secret);
    op!("DeleteUserPoolDomain", delete_user_pool_domain);
    op!("DeleteUserPoolReplica", delete_user_pool_replica);
    op!("DeleteWebAuthnCredential", delete_web_authn_credential);
    op!("DescribeIdentityProvider", describe_identity_provider);
    op!("DescribeManagedLoginBranding", describe_managed_login_branding);
    op!("DescribeManagedLoginBrandingByClient", describe_managed_login_branding_by_client);
    op!("DescribeResourceServer", describe_resource_server);
    op!("DescribeRiskConfiguration", describe_risk_configuration);
    op!("DescribeTerms", describe_terms);
    op!("DescribeTermsByClient", describe_terms_by_client);
    op!("DescribeUserImportJob", describe_user_import_job);
    op!("DescribeUserPool", describe_user_pool);
    op!("DescribeUserPoolClient", describe_user_pool_client);
    op!("DescribeUserPoolDomain", describe_user_pool_domain);
    op!("ForgetDevice", forget_device);
    op!("ForgotPassword", forgot_password);
    op!("GetCSVHeader", get_csv_header);
    op!("GetClientToken", get_client_token);
    op!("GetDevice", get_device);
    op!("GetGroup", get_group);
    op!("GetIdentityProviderByIdentifier", get_identity_provider_by_identifier);
    op!("GetLogDeliveryConfiguration", get_log_delivery_configuration);
    op!("GetProvisionedLimit", get_provisioned_limit);
    op!("GetSigningCertificate", get_signing_certificate);
    op!("GetTokensFromRefreshToken", get_tokens_from_refresh_token);
    op!("GetUICustomization", get_ui_customization);
    op!("GetUser", get_user);
    op!("GetUserAttributeVerificationCode", get_user_attribute_verification_code);
    op!("GetUserAuthFactors", get_user_auth_factors);
    op!("GetUserPoolMfaConfig", get_user_pool_mfa_config);
    op!("GlobalSignOut", global_sign_out);
    op!("InitiateAuth", initiate_auth);
    op!("ListDevices", list_devices);
    op!("ListGroups", list_groups);
    op!("ListIdentityProviders", list_identity_providers);
    op!("ListResourceServers", list_resource_servers);
    op!("ListTagsForResource", list_tags_for_resource);
    op!("ListTerms", list_terms);
    op!("ListUserImportJobs", list_user_import_jobs);
    op!("ListUserPoolClientSecrets", list_user_pool_client_secrets);
    op!("ListUserPoolClients", list_user_pool_clients);
    op!("ListUserPoolReplicas", list_user_pool_replicas);
    op!("ListUserPools", list_user_pools);
    op!("ListUsers", list_users);
    op!("ListUsersInGroup", list_users_in_group);
    op!("ListWebAuthnCredentials", list_web_authn_credentials);
    op!("ResendConfirmationCode", resend_confirmation_code);
    op!("RespondToAuthChallenge", respond_to_auth_challenge);
    op!("RevokeToken", revoke_token);
    op!("SetLogDeliveryConfiguration", set_log_delivery_configuration);
    op!("SetRiskConfiguration", set_risk_configuration);
    op!("SetUICustomization", set_ui_customization);
    op!("SetUserMFAPreference", set_user_mfa_preference);
    op!("SetUserPoolMfaConfig", set_user_pool_mfa_config);
    op!("SetUserSettings", set_user_settings);
    op!("SignUp", sign_up);
    op!("StartUserImportJob", start_user_import_job);
    op!("StartWebAuthnRegistration", start_web_authn_registration);
    op!("StopUserImportJob", stop_user_import_job);
    op!("TagResource", tag_resource);
    op!("UntagResource", untag_resource);
    op!("UpdateAuthEventFeedback", update_auth_event_feedback);
    op!("UpdateDeviceStatus", update_device_status);
    op!("UpdateGroup", update_group);
    op!("UpdateIdentityProvider", update_identity_provider);
    op!("UpdateManagedLoginBranding", update_managed_login_branding);
    op!("UpdateProvisionedLimit", update_provisioned_limit);
    op!("UpdateResourceServer", update_resource_server);
    op!("UpdateTerms", update_terms);
    op!("UpdateUserAttributes", update_user_attributes);
    op!("UpdateUserPool", update_user_pool);
    op!("UpdateUserPoolClient", update_user_pool_client);
    op!("UpdateUserPoolDomain", update_user_pool_domain);
    op!("UpdateUserPoolReplica", update_user_pool_replica);
    op!("VerifySoftwareToken", verify_software_token);
    op!("VerifyUserAttribute", verify_user_attribute);
}
