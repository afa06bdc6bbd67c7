//! Facts of the cognito-idp API model that every layer shares: the operation
//! names, which operations are sent unsigned, and the challenge names.
//!
//! The operation list is aws-sdk-cognitoidentityprovider 1.144's
//! `src/operation/` directory: every name is the string the SDK itself puts in
//! `X-Amz-Target` (its operation metadata), never a guess from the snake-case
//! method name. The wire client's dispatch table has one line per entry, and a
//! test sends every entry and compares the received target.

mod members;

/// All cognito-idp operation names the SDK knows, in PascalCase, sorted.
pub const OPERATIONS: &[&str] = &[
    "AddCustomAttributes",
    "AddUserPoolClientSecret",
    "AdminAddUserToGroup",
    "AdminConfirmSignUp",
    "AdminCreateUser",
    "AdminDeleteSoftwareToken",
    "AdminDeleteUser",
    "AdminDeleteUserAttributes",
    "AdminDisableProviderForUser",
    "AdminDisableUser",
    "AdminEnableUser",
    "AdminForgetDevice",
    "AdminGetDevice",
    "AdminGetUser",
    "AdminGetUserAuthFactors",
    "AdminInitiateAuth",
    "AdminLinkProviderForUser",
    "AdminListDevices",
    "AdminListGroupsForUser",
    "AdminListUserAuthEvents",
    "AdminRemoveUserFromGroup",
    "AdminResetUserPassword",
    "AdminRespondToAuthChallenge",
    "AdminSetUserMFAPreference",
    "AdminSetUserPassword",
    "AdminSetUserSettings",
    "AdminUpdateAuthEventFeedback",
    "AdminUpdateDeviceStatus",
    "AdminUpdateUserAttributes",
    "AdminUserGlobalSignOut",
    "AssociateSoftwareToken",
    "ChangePassword",
    "CompleteWebAuthnRegistration",
    "ConfirmDevice",
    "ConfirmForgotPassword",
    "ConfirmSignUp",
    "CreateGroup",
    "CreateIdentityProvider",
    "CreateManagedLoginBranding",
    "CreateResourceServer",
    "CreateTerms",
    "CreateUserImportJob",
    "CreateUserPool",
    "CreateUserPoolClient",
    "CreateUserPoolDomain",
    "CreateUserPoolReplica",
    "DeleteGroup",
    "DeleteIdentityProvider",
    "DeleteManagedLoginBranding",
    "DeleteResourceServer",
    "DeleteTerms",
    "DeleteUser",
    "DeleteUserAttributes",
    "DeleteUserPool",
    "DeleteUserPoolClient",
    "DeleteUserPoolClientSecret",
    "DeleteUserPoolDomain",
    "DeleteUserPoolReplica",
    "DeleteWebAuthnCredential",
    "DescribeIdentityProvider",
    "DescribeManagedLoginBranding",
    "DescribeManagedLoginBrandingByClient",
    "DescribeResourceServer",
    "DescribeRiskConfiguration",
    "DescribeTerms",
    "DescribeTermsByClient",
    "DescribeUserImportJob",
    "DescribeUserPool",
    "DescribeUserPoolClient",
    "DescribeUserPoolDomain",
    "ForgetDevice",
    "ForgotPassword",
    "GetCSVHeader",
    "GetClientToken",
    "GetDevice",
    "GetGroup",
    "GetIdentityProviderByIdentifier",
    "GetLogDeliveryConfiguration",
    "GetProvisionedLimit",
    "GetSigningCertificate",
    "GetTokensFromRefreshToken",
    "GetUICustomization",
    "GetUser",
    "GetUserAttributeVerificationCode",
    "GetUserAuthFactors",
    "GetUserPoolMfaConfig",
    "GlobalSignOut",
    "InitiateAuth",
    "ListDevices",
    "ListGroups",
    "ListIdentityProviders",
    "ListResourceServers",
    "ListTagsForResource",
    "ListTerms",
    "ListUserImportJobs",
    "ListUserPoolClientSecrets",
    "ListUserPoolClients",
    "ListUserPoolReplicas",
    "ListUserPools",
    "ListUsers",
    "ListUsersInGroup",
    "ListWebAuthnCredentials",
    "ResendConfirmationCode",
    "RespondToAuthChallenge",
    "RevokeToken",
    "SetLogDeliveryConfiguration",
    "SetRiskConfiguration",
    "SetUICustomization",
    "SetUserMFAPreference",
    "SetUserPoolMfaConfig",
    "SetUserSettings",
    "SignUp",
    "StartUserImportJob",
    "StartWebAuthnRegistration",
    "StopUserImportJob",
    "TagResource",
    "UntagResource",
    "UpdateAuthEventFeedback",
    "UpdateDeviceStatus",
    "UpdateGroup",
    "UpdateIdentityProvider",
    "UpdateManagedLoginBranding",
    "UpdateProvisionedLimit",
    "UpdateResourceServer",
    "UpdateTerms",
    "UpdateUserAttributes",
    "UpdateUserPool",
    "UpdateUserPoolClient",
    "UpdateUserPoolDomain",
    "UpdateUserPoolReplica",
    "VerifySoftwareToken",
    "VerifyUserAttribute",
];

/// Challenge names Cognito returns and accepts (botocore ChallengeNameType).
pub const CHALLENGE_NAMES: &[&str] = &[
    "SMS_MFA",
    "EMAIL_OTP",
    "SOFTWARE_TOKEN_MFA",
    "SELECT_MFA_TYPE",
    "MFA_SETUP",
    "PASSWORD_VERIFIER",
    "CUSTOM_CHALLENGE",
    "SELECT_CHALLENGE",
    "DEVICE_SRP_AUTH",
    "DEVICE_PASSWORD_VERIFIER",
    "ADMIN_NO_SRP_AUTH",
    "NEW_PASSWORD_REQUIRED",
    "SMS_OTP",
    "PASSWORD",
    "WEB_AUTHN",
    "PASSWORD_SRP",
];

/// The operations AWS serves without SigV4 (`authtype: none`): they are
/// authorised by a client id, session or access token in the body instead.
/// Source: cognito-wire-facts.md §1 (botocore `authtype: none`).
const PUBLIC: &[&str] = &[
    "AssociateSoftwareToken",
    "ChangePassword",
    "CompleteWebAuthnRegistration",
    "ConfirmDevice",
    "ConfirmForgotPassword",
    "ConfirmSignUp",
    "DeleteUser",
    "DeleteUserAttributes",
    "DeleteWebAuthnCredential",
    "ForgetDevice",
    "ForgotPassword",
    "GetDevice",
    "GetTokensFromRefreshToken",
    "GetUser",
    "GetUserAttributeVerificationCode",
    "GetUserAuthFactors",
    "GlobalSignOut",
    "InitiateAuth",
    "ListDevices",
    "ListWebAuthnCredentials",
    "ResendConfirmationCode",
    "RespondToAuthChallenge",
    "RevokeToken",
    "SetUserMFAPreference",
    "SetUserSettings",
    "SignUp",
    "StartWebAuthnRegistration",
    "UpdateAuthEventFeedback",
    "UpdateDeviceStatus",
    "UpdateUserAttributes",
    "VerifySoftwareToken",
    "VerifyUserAttribute",
];

/// Whether `op` (exact API name) is one of the 32 operations sent unsigned.
pub fn is_public(op: &str) -> bool {
    PUBLIC.binary_search(&op).is_ok()
}

/// The canonical API name for `name`: an exact match, else a case-insensitive one.
pub fn canonical(name: &str) -> Option<&'static str> {
    if let Ok(i) = OPERATIONS.binary_search(&name) {
        return Some(OPERATIONS[i]);
    }
    OPERATIONS
        .iter()
        .copied()
        .find(|op| op.eq_ignore_ascii_case(name))
}

/// The top-level request members of `op` (exact API name), from the SDK's model.
pub fn input_members(op: &str) -> Option<&'static [&'static str]> {
    members_of(op).map(|(_, input, _)| input)
}

/// The top-level response members of `op` (exact API name), from the SDK's model.
pub fn output_members(op: &str) -> Option<&'static [&'static str]> {
    members_of(op).map(|(_, _, output)| output)
}

fn members_of(op: &str) -> Option<(&str, &'static [&'static str], &'static [&'static str])> {
    let table = members::MEMBERS;
    table
        .binary_search_by(|(name, _, _)| (*name).cmp(op))
        .ok()
        .map(|i| table[i])
}

/// Did-you-mean for a misspelt operation name.
///
/// A case-insensitive match wins, then a match ignoring `_`, `-` and spaces
/// (so `admin_initiate_auth` finds `AdminInitiateAuth`), else the operation
/// closest by Damerau-Levenshtein distance if it is within roughly a quarter
/// of the name's length (at least 2, at most 5 edits). Ties go to the
/// alphabetically first name.
pub fn suggest(name: &str) -> Option<&'static str> {
    if let Some(op) = canonical(name) {
        return Some(op);
    }
    let wanted = fold(name);
    if wanted.is_empty() {
        return None;
    }
    let mut best: Option<(usize, &'static str)> = None;
    for &op in OPERATIONS {
        let distance = strsim::damerau_levenshtein(&wanted, &fold(op));
        if best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, op));
        }
    }
    let limit = (wanted.chars().count() / 4).clamp(2, 5);
    best.filter(|&(d, _)| d <= limit).map(|(_, op)| op)
}

/// Lower-cases and drops word separators, for fuzzy comparison.
fn fold(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '_' | '-' | ' ' | '.'))
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_member_table_covers_every_operation() {
        let table: Vec<&str> = members::MEMBERS.iter().map(|(op, _, _)| *op).collect();
        assert_eq!(table, OPERATIONS, "regenerate with scripts/gen-members.py");
        assert_eq!(
            input_members("AdminCreateUser"),
            Some(
                &[
                    "ClientMetadata",
                    "DesiredDeliveryMediums",
                    "ForceAliasCreation",
                    "MessageAction",
                    "TemporaryPassword",
                    "UserAttributes",
                    "UserPoolId",
                    "Username",
                    "ValidationData",
                ][..]
            )
        );
        assert!(
            input_members("CreateUserPoolClient")
                .unwrap()
                .contains(&"ExplicitAuthFlows")
        );
        assert!(
            output_members("InitiateAuth")
                .unwrap()
                .contains(&"AuthenticationResult")
        );
        assert_eq!(input_members("NoSuchOperation"), None);
    }
}
