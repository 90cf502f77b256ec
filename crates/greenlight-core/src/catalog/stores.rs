//! Secret-store references (`catalog/secret-stores.toml`): values such as `op://vault/item/field`
//! or dotenvx's `encrypted:…` that stand for a secret resolved at deploy or run time.

use std::sync::LazyLock;

use indexmap::IndexMap;
use regex::Regex;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreDef {
    name: String,
    pattern: String,
    resolved_by: String,
    docs: String,
}

/// A secret store whose reference syntax a value follows.
#[derive(Debug)]
pub struct SecretStore {
    pub id: String,
    pub name: String,
    pub resolved_by: String,
    pub docs: String,
    pattern: Regex,
}

static STORES: LazyLock<Vec<SecretStore>> = LazyLock::new(|| {
    let defs: IndexMap<String, StoreDef> =
        toml::from_str(include_str!("../../catalog/secret-stores.toml"))
            .expect("catalog/secret-stores.toml is valid (tested)");
    defs.into_iter()
        .map(|(id, d)| SecretStore {
            pattern: Regex::new(&d.pattern).expect("secret-store patterns compile (tested)"),
            id,
            name: d.name,
            resolved_by: d.resolved_by,
            docs: d.docs,
        })
        .collect()
});

/// The store a value refers to, when the whole value is a reference in its documented syntax.
pub fn secret_reference(value: &str) -> Option<&'static SecretStore> {
    let v = value.trim();
    STORES.iter().find(|s| s.pattern.is_match(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_in_each_stores_syntax_are_recognised() {
        for (value, store) in [
            ("op://Production/Stripe/secret key", "onepassword"),
            ("vault:secret/data/app/stripe#STRIPE_KEY", "vault"),
            (
                "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/stripe-AbCdEf",
                "aws-secrets-manager",
            ),
            (
                "arn:aws:ssm:us-east-1:123456789012:parameter/prod/db",
                "aws-ssm",
            ),
            (
                "{{resolve:secretsmanager:prod/db:SecretString:password}}",
                "cloudformation-resolve",
            ),
            ("${{ secrets.STRIPE_SECRET_KEY }}", "github-actions"),
            (
                "@Microsoft.KeyVault(SecretUri=https://v.vault.azure.net/secrets/s/)",
                "azure-key-vault",
            ),
            ("sm://my-project/stripe-key", "google-secret-manager"),
            (
                "encrypted:QmFzZTY0IGNpcGhlcnRleHQgb2YgYSBzZWNyZXQgdmFsdWUgaGVyZQ==",
                "dotenvx",
            ),
            ("ENC[AES256_GCM,data:Tr7o=,iv:1=,tag:k=,type:str]", "sops"),
        ] {
            assert_eq!(
                secret_reference(value).map(|s| s.id.as_str()),
                Some(store),
                "{value}"
            );
        }
        for value in [
            "op://",
            "vault",
            "vault:",
            "encrypted:short",
            "sk_live_x",
            "https://op.example/",
            "secrets.X",
            "${SECRET}",
            "arn:aws:s3:::bucket",
        ] {
            assert!(secret_reference(value).is_none(), "{value}");
        }
    }
}
