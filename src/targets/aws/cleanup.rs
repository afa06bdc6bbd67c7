//! Finding and deleting user pools that runs left behind (a killed run, a
//! teardown that failed). Only pools that carry both marks of the runner are
//! touched: a name starting with [`POOL_PREFIX`] and the [`RUN_TAG`] tag.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::targets::wire::{WireClient, WireResponse};

/// Prefix of every pool the runner creates, so leftovers can be found.
pub const POOL_PREFIX: &str = "cognito-scenarios-";

/// Tag key on every pool the runner creates; its value is the run id.
pub const RUN_TAG: &str = "cognito-scenarios:run";

/// `cognito-scenarios-<run>-<slug of the scenario name>`, within Cognito's 128 characters.
pub fn pool_name(run_id: &str, scenario: &str) -> String {
    let slug: String = scenario
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let mut name = format!("{POOL_PREFIX}{run_id}-{slug}");
    name.truncate(128);
    name
}

/// ListUserPools' largest page.
const PAGE_SIZE: u32 = 60;

/// A pool the runner created and did not delete.
#[derive(Debug, Clone, PartialEq)]
pub struct Leftover {
    pub id: String,
    pub name: String,
    /// The run id from the [`RUN_TAG`] tag.
    pub run: String,
    /// Seconds since the Unix epoch, when the target says.
    pub created: Option<f64>,
}

/// What deleting one pool took besides DeleteUserPool.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deletion {
    /// Deletion protection was switched off first.
    pub unprotected: bool,
    /// Domains deleted first (prefix or custom).
    pub domains: Vec<String>,
    /// The pool was already gone.
    pub already_gone: bool,
}

/// Sends one call; an API error becomes `Err("Code: message")`.
async fn call(wire: &WireClient, operation: &str, body: Value) -> Result<Value, String> {
    match wire.call(operation, &body).await {
        Ok(WireResponse {
            error: None, body, ..
        }) => Ok(body),
        Ok(WireResponse { error: Some(e), .. }) => Err(format!(
            "{operation}: {}: {}",
            e.code,
            e.message.unwrap_or_default()
        )),
        Err(e) => Err(format!("{operation}: {e}")),
    }
}

/// Pools named `cognito-scenarios-…` and tagged [`RUN_TAG`], created at
/// least `older_than` before `now` (when given). Reads every page of
/// ListUserPools and describes each candidate to see its tags.
pub async fn find_leftovers(
    wire: &WireClient,
    older_than: Option<Duration>,
    now: SystemTime,
) -> Result<Vec<Leftover>, String> {
    let cutoff = older_than.map(|d| {
        now.checked_sub(d)
            .unwrap_or(UNIX_EPOCH)
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64()
    });
    let mut found = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let mut body = json!({ "MaxResults": PAGE_SIZE });
        if let Some(token) = &next {
            body["NextToken"] = json!(token);
        }
        let page = call(wire, "ListUserPools", body).await?;
        for pool in page
            .get("UserPools")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (Some(id), Some(name)) = (
                pool.get("Id").and_then(Value::as_str),
                pool.get("Name").and_then(Value::as_str),
            ) else {
                continue;
            };
            if !name.starts_with(POOL_PREFIX) {
                continue;
            }
            let created = pool.get("CreationDate").and_then(Value::as_f64);
            if let (Some(cutoff), Some(created)) = (cutoff, created)
                && created > cutoff
            {
                continue;
            }
            let described = match call(wire, "DescribeUserPool", json!({ "UserPoolId": id })).await
            {
                Ok(d) => d,
                // Deleted between the listing and now (a run tearing down).
                Err(e) if e.contains("ResourceNotFoundException") => continue,
                Err(e) => return Err(e),
            };
            let Some(run) = described
                .pointer("/UserPool/UserPoolTags")
                .and_then(|t| t.get(RUN_TAG))
                .and_then(Value::as_str)
            else {
                continue;
            };
            found.push(Leftover {
                id: id.to_string(),
                name: name.to_string(),
                run: run.to_string(),
                created,
            });
        }
        next = page
            .get("NextToken")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if next.is_none() {
            return Ok(found);
        }
    }
}

/// Deletes a pool the runner created, switching off deletion protection and
/// deleting its domains first when it has them.
pub async fn delete_pool(wire: &WireClient, pool_id: &str) -> Result<Deletion, String> {
    let mut done = Deletion::default();
    let described = match call(wire, "DescribeUserPool", json!({ "UserPoolId": pool_id })).await {
        Ok(d) => d,
        Err(e) if e.contains("ResourceNotFoundException") => {
            done.already_gone = true;
            return Ok(done);
        }
        Err(e) => return Err(e),
    };
    let pool = described.get("UserPool").cloned().unwrap_or_default();
    if pool.get("DeletionProtection").and_then(Value::as_str) == Some("ACTIVE") {
        call(
            wire,
            "UpdateUserPool",
            json!({ "UserPoolId": pool_id, "DeletionProtection": "INACTIVE" }),
        )
        .await?;
        done.unprotected = true;
    }
    for key in ["Domain", "CustomDomain"] {
        if let Some(domain) = pool.get(key).and_then(Value::as_str) {
            call(
                wire,
                "DeleteUserPoolDomain",
                json!({ "UserPoolId": pool_id, "Domain": domain }),
            )
            .await?;
            done.domains.push(domain.to_string());
        }
    }
    call(wire, "DeleteUserPool", json!({ "UserPoolId": pool_id })).await?;
    Ok(done)
}

/// Parses `90s`, `30m`, `12h`, `7d` (one number and one unit).
pub fn parse_age(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not an age such as 30m, 12h or 7d"))?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "`{text}`: the unit must be s, m, h or d (e.g. 12h)"
            ));
        }
    };
    Ok(Duration::from_secs(n.saturating_mul(secs)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_names_are_prefixed_and_bounded() {
        assert_eq!(
            pool_name("r1", "Admin-created user: sets a NEW password!"),
            "cognito-scenarios-r1-admin-created-user-sets-a-new-password"
        );
        assert!(pool_name("r1", &"x".repeat(300)).len() <= 128);
    }

    #[test]
    fn ages() {
        assert_eq!(parse_age("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_age("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(parse_age("12h").unwrap(), Duration::from_secs(43_200));
        assert_eq!(parse_age("7d").unwrap(), Duration::from_secs(604_800));
        assert!(parse_age("7").unwrap_err().contains("unit"));
        assert!(parse_age("h").unwrap_err().contains("not an age"));
        assert!(parse_age("1w").is_err());
    }
}
