//! The checks beyond "alive" that providers.toml names in `checks`: pure functions from what
//! the provider answered (facts), what the manifest expects, and the credentials' own shape, to
//! check results. Each says what it compared, never a credential.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use base64::Engine as _;
use serde_json::Value;

use greenlight_core::finding::{RuleId, Severity};

use crate::spec::Provider;
use crate::{Check, Expect};

const CHECKS: &[(&str, CheckFn)] = &[
    ("account", account),
    ("scopes", scopes),
    ("stripe-charges", stripe_charges),
    ("stripe-key-pair", stripe_key_pair),
    ("stripe-webhook", stripe_webhook),
    ("sendgrid-sender", sendgrid_sender),
    ("mailchannels-domain", mailchannels_domain),
    ("cloudflare-worker-secrets", cloudflare_worker_secrets),
    ("r2-bucket", r2_bucket),
    ("supabase-roles", supabase_roles),
    ("vault-token", vault_token),
    ("twilio-account", twilio_account),
];

type CheckFn = fn(&Ctx<'_>) -> Vec<Check>;

pub fn is_known(name: &str) -> bool {
    CHECKS.iter().any(|(n, _)| *n == name)
}

pub fn run(name: &str, ctx: &Ctx<'_>) -> Vec<Check> {
    CHECKS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, f)| f(ctx))
        .unwrap_or_default()
}

/// What a check sees.
pub struct Ctx<'a> {
    pub provider: &'a Provider,
    pub facts: &'a BTreeMap<String, Value>,
    /// Calls that answered "valid" / "denied" (the credential works but may not do this).
    pub answered: &'a BTreeSet<String>,
    pub denied: &'a BTreeSet<String>,
    pub expect: &'a Expect,
    /// Role → value. Checks may look at a credential's shape; messages never quote it.
    pub values: &'a HashMap<String, String>,
    /// Role → variable name, for messages.
    pub variables: &'a HashMap<String, String>,
    pub production: bool,
}

impl Ctx<'_> {
    fn var(&self, role: &str) -> String {
        self.variables
            .get(role)
            .map(|v| format!("`{v}`"))
            .unwrap_or_else(|| format!("the {role}"))
    }
    fn fact_str(&self, name: &str) -> Option<&str> {
        self.facts.get(name).and_then(Value::as_str)
    }
    /// Critical in production, a warning elsewhere.
    fn blocking(&self) -> Severity {
        if self.production {
            Severity::Critical
        } else {
            Severity::Warning
        }
    }
}

fn rule(id: &str) -> RuleId {
    RuleId::of(id)
}

fn account(ctx: &Ctx<'_>) -> Vec<Check> {
    let Some(expected) = ctx.expect.account.as_deref() else {
        return Vec::new();
    };
    let check = "account";
    match ctx.fact_str("account") {
        Some(actual) if actual == expected => vec![Check::pass(
            check,
            rule("credential-wrong-account"),
            format!("belongs to account {actual}, as the manifest expects"),
        )],
        Some(actual) => vec![Check::fail(
            check,
            rule("credential-wrong-account"),
            ctx.blocking(),
            format!(
                "{} belongs to {} account {actual}; the manifest expects {expected}",
                ctx.var(ctx.provider.primary_role()),
                ctx.provider.title
            ),
        )],
        None => vec![Check::unknown(
            check,
            rule("credential-wrong-account"),
            format!(
                "{} did not say which account the credential belongs to",
                ctx.provider.title
            ),
        )],
    }
}

/// Scopes as a list: a JSON array, or a comma- or space-separated string.
fn scope_list(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a
            .iter()
            .filter_map(|s| s.as_str().map(str::to_owned))
            .collect(),
        Value::String(s) => s
            .split([',', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

fn scopes(ctx: &Ctx<'_>) -> Vec<Check> {
    let required: Vec<String> = ctx
        .expect
        .scopes
        .clone()
        .unwrap_or_else(|| ctx.provider.default_scopes.clone());
    let Some(held) = ctx.facts.get("scopes").map(scope_list) else {
        if required.is_empty() {
            return Vec::new();
        }
        return vec![Check::unknown(
            "scopes",
            rule("credential-scope-missing"),
            format!(
                "{} did not list the credential's scopes",
                ctx.provider.title
            ),
        )];
    };
    let mut out = Vec::new();
    let missing: Vec<&String> = required.iter().filter(|s| !held.contains(s)).collect();
    if missing.is_empty() {
        if !required.is_empty() {
            out.push(Check::pass(
                "scopes.required",
                rule("credential-scope-missing"),
                format!("has the scopes it needs: {}", required.join(", ")),
            ));
        }
    } else {
        out.push(Check::fail(
            "scopes.required",
            rule("credential-scope-missing"),
            Severity::Critical,
            format!(
                "{} lacks the scope{} {}",
                ctx.var(ctx.provider.primary_role()),
                if missing.len() == 1 { "" } else { "s" },
                missing
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let excess: Vec<&String> = match &ctx.expect.allow_scopes {
        Some(allowed) => held
            .iter()
            .filter(|s| !required.contains(s) && !allowed.contains(s))
            .collect(),
        None => held
            .iter()
            .filter(|s| {
                !required.contains(s)
                    && ctx
                        .provider
                        .admin_scopes
                        .iter()
                        .any(|a| s.starts_with(a.as_str()))
            })
            .collect(),
    };
    if excess.is_empty() {
        out.push(Check::pass(
            "scopes.least-privilege",
            rule("credential-scope-excess"),
            format!("holds {} scope(s), none beyond what it needs", held.len()),
        ));
    } else {
        let shown: Vec<&str> = excess.iter().take(6).map(|s| s.as_str()).collect();
        out.push(Check::fail(
            "scopes.least-privilege",
            rule("credential-scope-excess"),
            Severity::Warning,
            format!(
                "{} holds {} scope(s) it does not need ({}{}): use a key restricted to {}",
                ctx.var(ctx.provider.primary_role()),
                excess.len(),
                shown.join(", "),
                if excess.len() > shown.len() {
                    ", …"
                } else {
                    ""
                },
                if required.is_empty() {
                    "what the app uses".to_owned()
                } else {
                    required.join(", ")
                }
            ),
        ));
    }
    out
}

fn stripe_charges(ctx: &Ctx<'_>) -> Vec<Check> {
    match ctx.facts.get("charges_enabled").and_then(Value::as_bool) {
        Some(true) => vec![Check::pass(
            "stripe.charges-enabled",
            rule("provider-setup-incomplete"),
            "the account can accept charges",
        )],
        Some(false) => vec![Check::fail(
            "stripe.charges-enabled",
            rule("provider-setup-incomplete"),
            ctx.blocking(),
            format!(
                "the Stripe account {} cannot accept charges yet (charges_enabled is false): finish its activation in the Dashboard",
                ctx.fact_str("account").unwrap_or("behind the key")
            ),
        )],
        None if ctx.denied.contains("account") => vec![Check::unknown(
            "stripe.charges-enabled",
            rule("provider-setup-incomplete"),
            "the key may not read the account (a restricted key without the Account permission)",
        )],
        None => Vec::new(),
    }
}

/// The account segment of a current-format Stripe key: the characters after `sk_live_5`,
/// `pk_test_5`, … that the secret and publishable keys of one account share. Observed in
/// Stripe's keys since 2019, not documented: a difference is a warning, never a block.
fn stripe_account_segment(key: &str) -> Option<&str> {
    let rest = key.splitn(3, '_').nth(2)?;
    let seg = rest.strip_prefix('5')?;
    (seg.len() > 40).then(|| &seg[..16])
}

fn stripe_key_pair(ctx: &Ctx<'_>) -> Vec<Check> {
    let (Some(secret), Some(public)) = (ctx.values.get("key"), ctx.values.get("publishable"))
    else {
        return Vec::new();
    };
    let check = "stripe.key-pair";
    match (stripe_account_segment(secret), stripe_account_segment(public)) {
        (Some(a), Some(b)) if a == b => vec![Check::pass(
            check,
            rule("credential-wrong-account"),
            format!("{} and {} are keys of the same account", ctx.var("key"), ctx.var("publishable")),
        )],
        (Some(_), Some(_)) => vec![Check::fail(
            check,
            rule("credential-wrong-account"),
            Severity::Warning,
            format!(
                "{} and {} look like keys of different Stripe accounts (their account segments differ): the browser would create payments the server cannot see",
                ctx.var("key"),
                ctx.var("publishable")
            ),
        )],
        _ => vec![Check::unknown(
            check,
            rule("credential-wrong-account"),
            "the keys are not in Stripe's current format, so whether they belong to one account cannot be told without the Dashboard",
        )],
    }
}

fn normalise_url(u: &str) -> String {
    u.trim().trim_end_matches('/').to_ascii_lowercase()
}

fn stripe_webhook(ctx: &Ctx<'_>) -> Vec<Check> {
    let Some(expected) = &ctx.expect.webhook else {
        return Vec::new();
    };
    let check = "stripe.webhook";
    let r = rule("webhook-not-registered");
    let Some(endpoints) = ctx.facts.get("endpoints").and_then(Value::as_array) else {
        let why = if ctx.denied.contains("webhooks") {
            "the key may not list webhook endpoints (a restricted key without Webhook Endpoints read)"
        } else {
            "Stripe did not list the webhook endpoints"
        };
        return vec![Check::unknown(check, r, why)];
    };
    let want = normalise_url(&expected.url);
    let found = endpoints.iter().find(|e| {
        e.get("url")
            .and_then(Value::as_str)
            .is_some_and(|u| normalise_url(u) == want)
    });
    let Some(endpoint) = found else {
        if ctx.facts.get("more").and_then(Value::as_bool) == Some(true) {
            return vec![Check::unknown(
                check,
                r,
                "the account has more than 100 webhook endpoints; the expected one is not among the first 100",
            )];
        }
        return vec![Check::fail(
            check,
            r,
            Severity::Critical,
            format!(
                "no webhook endpoint for {} is registered with the Stripe account ({} endpoint(s) registered): add it under Developers → Webhooks",
                expected.url,
                endpoints.len()
            ),
        )];
    };
    let status = endpoint.get("status").and_then(Value::as_str).unwrap_or("");
    if status != "enabled" {
        return vec![Check::fail(
            check,
            r,
            Severity::Critical,
            format!(
                "the webhook endpoint for {} is registered but {status}",
                expected.url
            ),
        )];
    }
    let events: Vec<&str> = endpoint
        .get("enabled_events")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let missing: Vec<&str> = expected
        .events
        .iter()
        .map(String::as_str)
        .filter(|e| !events.contains(e) && !events.contains(&"*"))
        .collect();
    if missing.is_empty() {
        vec![Check::pass(
            check,
            r,
            format!(
                "{} is registered, enabled, and receives {}",
                expected.url,
                if expected.events.is_empty() {
                    "events".to_owned()
                } else {
                    expected.events.join(", ")
                }
            ),
        )]
    } else {
        vec![Check::fail(
            check,
            r,
            Severity::Critical,
            format!(
                "the webhook endpoint for {} is not subscribed to {}: Stripe will not send them",
                expected.url,
                missing.join(", ")
            ),
        )]
    }
}

fn sendgrid_sender(ctx: &Ctx<'_>) -> Vec<Check> {
    let Some(sender) = ctx.expect.sender.as_deref() else {
        return Vec::new();
    };
    let check = "sendgrid.sender";
    let r = rule("provider-setup-incomplete");
    let domain = sender.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase());
    let senders = ctx.facts.get("senders").and_then(Value::as_array);
    let domains = ctx.facts.get("domains").and_then(Value::as_array);
    if senders.is_none() && domains.is_none() {
        return vec![Check::unknown(
            check,
            r,
            "the key may not read verified senders or authenticated domains",
        )];
    }
    let verified_sender = senders.into_iter().flatten().any(|s| {
        s.get("from_email")
            .and_then(Value::as_str)
            .is_some_and(|e| e.eq_ignore_ascii_case(sender))
            && s.get("verified").and_then(Value::as_bool) == Some(true)
    });
    let authenticated_domain = domains.into_iter().flatten().any(|d| {
        let name = d
            .get("domain")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_ascii_lowercase();
        domain
            .as_deref()
            .is_some_and(|s| s == name || s.ends_with(&format!(".{name}")))
            && d.get("valid").and_then(Value::as_bool) == Some(true)
    });
    if verified_sender || authenticated_domain {
        vec![Check::pass(
            check,
            r,
            format!(
                "{sender} may send: {}",
                if authenticated_domain {
                    "its domain is authenticated"
                } else {
                    "it is a verified sender"
                }
            ),
        )]
    } else {
        vec![Check::fail(
            check,
            r,
            ctx.blocking(),
            format!("{sender} is neither a verified sender nor on an authenticated domain of this SendGrid account: mail from it will be refused"),
        )]
    }
}

fn mailchannels_domain(ctx: &Ctx<'_>) -> Vec<Check> {
    // Without a domain the call is not made, and the credential's check says why.
    let Some(domain) = ctx.expect.domain.as_deref() else {
        return Vec::new();
    };
    let r = rule("provider-setup-incomplete");
    let Some(results) = ctx.facts.get("results") else {
        return Vec::new();
    };
    let verdict = |v: Option<&Value>| {
        v.and_then(|v| v.get("verdict"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let mut failing = Vec::new();
    let mut unknown = Vec::new();
    for (name, v) in [
        ("SPF", verdict(results.get("spf"))),
        ("Domain Lockdown", verdict(results.get("domain_lockdown"))),
    ] {
        match v.as_deref() {
            Some("passed") => {}
            Some(other) => failing.push(format!("{name} {other}")),
            None => unknown.push(name),
        }
    }
    if let Some(dkim) = results.get("dkim").and_then(Value::as_array) {
        for d in dkim {
            match verdict(Some(d)).as_deref() {
                Some("passed") => {}
                Some(other) => failing.push(format!("DKIM {other}")),
                None => unknown.push("DKIM"),
            }
        }
    }
    if !failing.is_empty() {
        vec![Check::fail(
            "mailchannels.domain",
            r,
            ctx.blocking(),
            format!(
                "{domain} is not ready to send through MailChannels: {}",
                failing.join(", ")
            ),
        )]
    } else if !unknown.is_empty() {
        vec![Check::unknown(
            "mailchannels.domain",
            r,
            format!(
                "MailChannels gave no verdict for {} of {domain}",
                unknown.join(", ")
            ),
        )]
    } else {
        vec![Check::pass(
            "mailchannels.domain",
            r,
            format!("{domain}: SPF, DKIM and Domain Lockdown pass"),
        )]
    }
}

fn cloudflare_worker_secrets(ctx: &Ctx<'_>) -> Vec<Check> {
    let Some(worker) = ctx.expect.worker.as_deref() else {
        return Vec::new();
    };
    let check = "cloudflare.worker-secrets";
    let r = rule("provider-setup-incomplete");
    let Some(list) = ctx.facts.get("secrets").and_then(Value::as_array) else {
        let why = if !ctx.values.contains_key("account") {
            "needs the Cloudflare account id (a `cloudflare.account_id` variable) to read the Worker's secrets".to_owned()
        } else if ctx.denied.contains("worker-secrets") {
            format!("the token may not read the secrets of `{worker}` (Workers Scripts read)")
        } else {
            format!("Cloudflare did not list the secrets of `{worker}`")
        };
        return vec![Check::unknown(check, r, why)];
    };
    let names: BTreeSet<&str> = list
        .iter()
        .filter_map(|s| s.get("name").and_then(Value::as_str))
        .collect();
    let missing: Vec<&str> = ctx
        .expect
        .secrets
        .iter()
        .map(String::as_str)
        .filter(|s| !names.contains(s))
        .collect();
    if missing.is_empty() {
        vec![Check::pass(
            check,
            r,
            format!(
                "the Worker `{worker}` has all {} secret(s) the manifest declares",
                ctx.expect.secrets.len()
            ),
        )]
    } else {
        vec![Check::fail(
            check,
            r,
            Severity::Critical,
            format!(
                "the Worker `{worker}` lacks the secret{} {}: set {} with `wrangler secret put`",
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", "),
                if missing.len() == 1 { "it" } else { "them" }
            ),
        )]
    }
}

fn r2_bucket(ctx: &Ctx<'_>) -> Vec<Check> {
    let Some(bucket) = ctx.expect.bucket.as_deref() else {
        return Vec::new();
    };
    let r = rule("provider-setup-incomplete");
    let Some(buckets) = ctx.facts.get("buckets") else {
        return Vec::new();
    };
    let names = scope_list(buckets);
    if names.iter().any(|n| n == bucket) {
        vec![Check::pass(
            "r2.bucket",
            r,
            format!("the bucket `{bucket}` exists"),
        )]
    } else {
        vec![Check::fail(
            "r2.bucket",
            r,
            ctx.blocking(),
            format!(
                "the bucket `{bucket}` does not exist in this account (or the key cannot see it)"
            ),
        )]
    }
}

/// The claims of a JWT, unverified (the signature is the provider's business).
fn jwt_claims(token: &str) -> Option<Value> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn supabase_roles(ctx: &Ctx<'_>) -> Vec<Check> {
    let mut out = Vec::new();
    let project = ctx.values.get("project");
    for (role, want) in [("anon", "anon"), ("service", "service_role")] {
        let Some(value) = ctx.values.get(role) else {
            continue;
        };
        let Some(claims) = jwt_claims(value) else {
            continue; // the new sb_publishable_/sb_secret_ keys say their kind by prefix
        };
        let claimed = claims.get("role").and_then(Value::as_str).unwrap_or("");
        if claimed != want {
            let (rule_id, what) = if want == "anon" {
                ("credential-scope-excess", "the anon key carries the role")
            } else {
                (
                    "credential-scope-missing",
                    "the service key carries the role",
                )
            };
            out.push(Check::fail(
                "supabase.role",
                rule(rule_id),
                Severity::Critical,
                format!("{} ({what} `{claimed}`, not `{want}`)", ctx.var(role)),
            ));
        } else {
            out.push(Check::pass(
                "supabase.role",
                rule("credential-scope-excess"),
                format!("{} carries the `{want}` role", ctx.var(role)),
            ));
        }
        if let (Some(project), Some(r)) = (project, claims.get("ref").and_then(Value::as_str)) {
            if r != project {
                out.push(Check::fail(
                    "supabase.project",
                    rule("credential-wrong-account"),
                    ctx.blocking(),
                    format!(
                        "{} is a key of project `{r}`, not of `{project}` (the URL's)",
                        ctx.var(role)
                    ),
                ));
            }
        }
    }
    if ctx.values.contains_key("service") {
        if ctx.answered.contains("service-admin") {
            out.push(Check::pass(
                "supabase.service-role",
                rule("credential-scope-missing"),
                "the service key is accepted for the admin API (it carries the service role)",
            ));
        } else if ctx.denied.contains("service-admin") {
            out.push(Check::fail(
                "supabase.service-role",
                rule("credential-scope-missing"),
                Severity::Critical,
                format!(
                    "{} works but may not use the admin API: it is not a service-role key",
                    ctx.var("service")
                ),
            ));
        }
    }
    out
}

fn vault_token(ctx: &Ctx<'_>) -> Vec<Check> {
    let mut out = Vec::new();
    let policies = ctx
        .facts
        .get("policies")
        .map(scope_list)
        .unwrap_or_default();
    if policies.iter().any(|p| p == "root") {
        out.push(Check::fail(
            "vault.policies",
            rule("credential-scope-excess"),
            ctx.blocking(),
            format!(
                "{} is a root token: give the application a token with its own policy",
                ctx.var("token")
            ),
        ));
    } else if !policies.is_empty() {
        out.push(Check::pass(
            "vault.policies",
            rule("credential-scope-excess"),
            format!("policies: {}", policies.join(", ")),
        ));
    }
    if let Some(ttl) = ctx.facts.get("ttl").and_then(Value::as_i64) {
        let renewable = ctx.facts.get("renewable").and_then(Value::as_bool) == Some(true);
        if ttl > 0 && ttl < 7 * 86_400 && !renewable {
            out.push(Check::fail(
                "vault.ttl",
                rule("credential-expiring"),
                Severity::Warning,
                format!(
                    "{} expires in {} h and cannot be renewed",
                    ctx.var("token"),
                    ttl / 3600
                ),
            ));
        } else {
            out.push(Check::pass(
                "vault.ttl",
                rule("credential-expiring"),
                if ttl == 0 {
                    "the token does not expire".to_owned()
                } else {
                    format!(
                        "TTL {} h{}",
                        ttl / 3600,
                        if renewable { ", renewable" } else { "" }
                    )
                },
            ));
        }
    }
    out
}

fn twilio_account(ctx: &Ctx<'_>) -> Vec<Check> {
    let mut out = Vec::new();
    if ctx.denied.contains("account") {
        out.push(Check::fail(
            "twilio.live-credentials",
            rule("test-credential-in-production"),
            if ctx.production { Severity::Critical } else { Severity::Recommendation },
            format!(
                "{} works but may not read the account: Twilio answers so to test credentials (they send nothing)",
                ctx.var("token")
            ),
        ));
        return out;
    }
    if let Some(status) = ctx.fact_str("status") {
        if status != "active" {
            out.push(Check::fail(
                "twilio.status",
                rule("credential-invalid"),
                ctx.blocking(),
                format!("the Twilio account is {status}"),
            ));
        }
    }
    if ctx.fact_str("type") == Some("Trial") && ctx.production {
        out.push(Check::fail(
            "twilio.trial",
            rule("provider-setup-incomplete"),
            Severity::Critical,
            "the Twilio account is a trial account: it can only reach verified numbers",
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::provider;

    struct Fixture {
        facts: BTreeMap<String, Value>,
        answered: BTreeSet<String>,
        denied: BTreeSet<String>,
        expect: Expect,
        values: HashMap<String, String>,
        variables: HashMap<String, String>,
    }

    impl Fixture {
        fn new(facts: Value) -> Fixture {
            Fixture {
                facts: facts.as_object().unwrap().clone().into_iter().collect(),
                answered: BTreeSet::new(),
                denied: BTreeSet::new(),
                expect: Expect::default(),
                values: HashMap::new(),
                variables: HashMap::new(),
            }
        }
        fn run(&self, provider_id: &str, check: &str) -> Vec<Check> {
            let ctx = Ctx {
                provider: provider(provider_id).unwrap(),
                facts: &self.facts,
                answered: &self.answered,
                denied: &self.denied,
                expect: &self.expect,
                values: &self.values,
                variables: &self.variables,
                production: true,
            };
            run(check, &ctx)
        }
    }

    fn statuses(c: &[Check]) -> Vec<(&str, &str)> {
        c.iter()
            .map(|c| (c.check.as_str(), c.status.as_str()))
            .collect()
    }

    #[test]
    fn webhook_registered_enabled_and_subscribed() {
        let mut f = Fixture::new(serde_json::json!({"endpoints": [
            {"url": "https://api.shop.io/webhooks/stripe/", "status": "enabled", "enabled_events": ["checkout.session.completed"]}
        ]}));
        f.expect.webhook = Some(crate::WebhookExpect {
            url: "https://api.shop.io/webhooks/stripe".into(),
            events: vec!["checkout.session.completed".into()],
        });
        assert_eq!(
            statuses(&f.run("stripe", "stripe-webhook")),
            [("stripe.webhook", "pass")]
        );
        f.expect
            .webhook
            .as_mut()
            .unwrap()
            .events
            .push("invoice.payment_succeeded".into());
        let c = f.run("stripe", "stripe-webhook");
        assert_eq!(c[0].status.as_str(), "fail");
        assert!(
            c[0].message.contains("invoice.payment_succeeded"),
            "{}",
            c[0].message
        );
        f.expect.webhook.as_mut().unwrap().url = "https://api.shop.io/other".into();
        assert!(f.run("stripe", "stripe-webhook")[0]
            .message
            .contains("no webhook endpoint"));
    }

    #[test]
    fn a_wildcard_subscription_covers_every_event() {
        let mut f = Fixture::new(serde_json::json!({"endpoints": [
            {"url": "https://a.io/h", "status": "enabled", "enabled_events": ["*"]}]}));
        f.expect.webhook = Some(crate::WebhookExpect {
            url: "https://a.io/h".into(),
            events: vec!["x.y".into()],
        });
        assert_eq!(f.run("stripe", "stripe-webhook")[0].status.as_str(), "pass");
    }

    #[test]
    fn a_full_access_sendgrid_key_is_excess() {
        let f = Fixture::new(
            serde_json::json!({"scopes": ["mail.send", "api_keys.create", "user.profile.read"]}),
        );
        let c = f.run("sendgrid", "scopes");
        assert_eq!(
            statuses(&c),
            [
                ("scopes.required", "pass"),
                ("scopes.least-privilege", "fail")
            ]
        );
        let f = Fixture::new(serde_json::json!({"scopes": ["alerts.read"]}));
        let c = f.run("sendgrid", "scopes");
        assert_eq!(c[0].status.as_str(), "fail");
        assert_eq!(c[0].rule.id(), "credential-scope-missing");
    }

    #[test]
    fn github_scopes_come_from_a_header_string() {
        let mut f = Fixture::new(serde_json::json!({"scopes": "repo, admin:org"}));
        f.expect.scopes = Some(vec!["repo".into()]);
        let c = f.run("github", "scopes");
        assert_eq!(
            statuses(&c),
            [
                ("scopes.required", "pass"),
                ("scopes.least-privilege", "fail")
            ]
        );
        assert!(c[1].message.contains("admin:org"));
    }

    #[test]
    fn the_wrong_account_is_named() {
        let mut f = Fixture::new(serde_json::json!({"account": "acct_1Other"}));
        f.expect.account = Some("acct_1Mine".into());
        let c = f.run("stripe", "account");
        assert_eq!(c[0].status.as_str(), "fail");
        assert!(c[0].message.contains("acct_1Other") && c[0].message.contains("acct_1Mine"));
    }

    #[test]
    fn worker_secrets_missing_are_listed() {
        let mut f = Fixture::new(
            serde_json::json!({"secrets": [{"name": "JWT_SECRET", "type": "secret_text"}]}),
        );
        f.expect.worker = Some("api".into());
        f.expect.secrets = vec!["JWT_SECRET".into(), "STRIPE_SECRET_KEY".into()];
        f.values.insert("account".into(), "x".into());
        let c = f.run("cloudflare", "cloudflare-worker-secrets");
        assert_eq!(c[0].status.as_str(), "fail");
        assert!(
            c[0].message.contains("STRIPE_SECRET_KEY") && !c[0].message.contains("JWT_SECRET,")
        );
    }

    #[test]
    fn supabase_keys_carry_the_roles_their_names_claim() {
        let jwt = |role: &str| {
            let b = base64::engine::general_purpose::URL_SAFE_NO_PAD;
            format!(
                "{}.{}.sig",
                b.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
                b.encode(format!(
                    r#"{{"iss":"supabase","ref":"abcdefghijklmnopqrst","role":"{role}"}}"#
                ))
            )
        };
        let mut f = Fixture::new(serde_json::json!({}));
        f.values.insert("anon".into(), jwt("service_role"));
        f.values
            .insert("project".into(), "abcdefghijklmnopqrst".into());
        let c = f.run("supabase", "supabase-roles");
        assert_eq!(c[0].status.as_str(), "fail");
        assert_eq!(c[0].rule.id(), "credential-scope-excess");
        f.values.insert("anon".into(), jwt("anon"));
        assert_eq!(
            f.run("supabase", "supabase-roles")[0].status.as_str(),
            "pass"
        );
    }

    #[test]
    fn stripe_key_pair_compares_account_segments() {
        let seg = "1Nv0FGQ9RKHgCVdK";
        let tail = "x".repeat(60);
        let mut f = Fixture::new(serde_json::json!({}));
        f.values
            .insert("key".into(), format!("sk_live_5{seg}{tail}"));
        f.values
            .insert("publishable".into(), format!("pk_live_5{seg}{tail}"));
        assert_eq!(
            f.run("stripe", "stripe-key-pair")[0].status.as_str(),
            "pass"
        );
        f.values.insert(
            "publishable".into(),
            format!("pk_live_51Zz0FGQ9RKHgCVdK{tail}"),
        );
        assert_eq!(
            f.run("stripe", "stripe-key-pair")[0].status.as_str(),
            "fail"
        );
        f.values
            .insert("publishable".into(), "pk_live_short".into());
        assert_eq!(
            f.run("stripe", "stripe-key-pair")[0].status.as_str(),
            "unknown"
        );
    }

    #[test]
    fn vault_root_tokens_are_excess() {
        let f = Fixture::new(serde_json::json!({"policies": ["root"], "ttl": 0}));
        let c = f.run("vault", "vault-token");
        assert_eq!(
            statuses(&c),
            [("vault.policies", "fail"), ("vault.ttl", "pass")]
        );
    }

    #[test]
    fn mailchannels_verdicts() {
        let mut f = Fixture::new(
            serde_json::json!({"results": {"spf": {"verdict": "passed"}, "domain_lockdown": {"verdict": "failed"}, "dkim": [{"verdict": "passed"}]}}),
        );
        f.expect.domain = Some("shop.io".into());
        let c = f.run("mailchannels", "mailchannels-domain");
        assert_eq!(c[0].status.as_str(), "fail");
        assert!(c[0].message.contains("Domain Lockdown failed"));
    }
}
