//! The built-in stub: an honest in-process Cognito on wiremock.
