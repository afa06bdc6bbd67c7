//! Sends any cognito-idp operation through the official AWS SDK with the scenario's JSON as the body.
