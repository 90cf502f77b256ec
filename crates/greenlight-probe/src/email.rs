//! The `email` probe: the sending domain's authentication records in DNS, as receivers read them
//! — SPF (one record, the senders included, a strict `all`, at most 10 DNS lookups: RFC 7208),
//! DKIM (a key at each selector, not revoked, not short: RFC 6376, RFC 8301), DMARC (one record
//! with an enforcing policy: RFC 7489, found on the domain or a parent as DMARCbis' tree walk
//! does), MailChannels Domain Lockdown (`_mailchannels.<domain>` naming the account), and MX
//! when the domain receives mail.
//!
//! Resolution is hickory-resolver's, with the system's resolvers or the `nameservers` the
//! manifest names; the only names asked are the domain's own records and the SPF includes they
//! lead to (at most [`MAX_INCLUDES`]). A lookup that times out or fails is `unknown`, never a pass.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine as _;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::{Resolver, TokioResolver};
use serde::{Deserialize, Serialize};

use super::rules::ProbeRule;
use super::{net, CheckResult, Context, Planned};
use greenlight_core::catalog::{email_sender, EmailSender};
use greenlight_core::finding::Severity;

/// How many SPF `include:`/`redirect=` targets are followed: one more than the ten lookups SPF
/// allows in all is enough to tell a record that exceeds them.
pub const MAX_INCLUDES: usize = 12;

/// Tries per lookup, each bounded by the probe's `connect_timeout`.
const ATTEMPTS: usize = 2;

/// What DNS answered for one name and type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// The records' text (TXT strings joined as receivers join them; MX as `PREF EXCHANGE`).
    Records(Vec<String>),
    /// The name exists, with no record of the type.
    NoRecords,
    /// NXDOMAIN: the name does not exist.
    NoDomain,
    /// No usable answer (timeout, SERVFAIL, refused): could not tell.
    Failed(String),
}

impl Answer {
    fn records(&self) -> &[String] {
        match self {
            Answer::Records(r) => r,
            _ => &[],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub domain: String,
    /// TXT answers by name: the domain, SPF includes, `_dmarc.*`, `*._domainkey.*`,
    /// `_mailchannels.*`.
    pub txt: BTreeMap<String, Answer>,
    pub mx: Option<Answer>,
    /// The resolver could not be set up.
    pub error: Option<String>,
}

/// What the manifest asks of the domain.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    pub senders: Vec<(String, EmailSender)>,
    pub selectors: Vec<String>,
    pub account: Option<String>,
    pub mx: bool,
}

impl Expect {
    pub fn of(p: &Planned) -> Expect {
        let senders: Vec<(String, EmailSender)> = p
            .spec
            .senders
            .iter()
            .flatten()
            .filter_map(|id| email_sender(id).map(|s| (id.clone(), s)))
            .collect();
        let selectors = match &p.spec.dkim_selectors {
            Some(s) => s.clone(),
            None => {
                let mut v: Vec<String> = senders
                    .iter()
                    .flat_map(|(_, s)| s.dkim_selectors.iter().cloned())
                    .collect();
                v.dedup();
                v
            }
        };
        Expect {
            senders,
            selectors,
            account: p
                .spec
                .mailchannels_account
                .as_deref()
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_owned),
            mx: p.spec.mx == Some(true),
        }
    }

    fn lockdown(&self) -> bool {
        self.account.is_some() || self.senders.iter().any(|(_, s)| s.lockdown)
    }
}

/// The domain of `domain = …`: an address's part after `@`, lowercase, without a final dot.
pub fn domain_of(text: &str) -> String {
    let t = text.trim();
    let d = t.rsplit_once('@').map_or(t, |(_, d)| d);
    d.trim_end_matches('.').to_ascii_lowercase()
}

fn resolver(p: &Planned) -> Result<TokioResolver, String> {
    let provider = TokioRuntimeProvider::default();
    let servers: Vec<SocketAddr> = p
        .spec
        .nameservers
        .iter()
        .flatten()
        .filter_map(|n| greenlight_core::manifest::parse_nameserver(n))
        .collect();
    let mut builder = if servers.is_empty() {
        Resolver::builder(provider)
            .map_err(|e| format!("cannot read the system's DNS configuration: {e}"))?
    } else {
        let configs = servers
            .iter()
            .map(|a| {
                let mut udp = ConnectionConfig::udp();
                udp.port = a.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = a.port();
                NameServerConfig::new(a.ip(), true, vec![udp, tcp])
            })
            .collect();
        Resolver::builder_with_config(ResolverConfig::from_name_servers(configs), provider)
    };
    let opts = builder.options_mut();
    opts.timeout = p.connect_timeout;
    opts.attempts = ATTEMPTS;
    opts.use_hosts_file = ResolveHosts::Never;
    opts.cache_size = 0;
    builder
        .build()
        .map_err(|e| format!("cannot set up a DNS resolver: {e}"))
}

async fn lookup(
    resolver: &TokioResolver,
    name: &str,
    rtype: RecordType,
    limit: Duration,
) -> Answer {
    let fqdn = format!("{}.", name.trim_end_matches('.'));
    match resolver.lookup(fqdn.as_str(), rtype).await {
        Ok(l) => {
            let records: Vec<String> = l
                .answers()
                .iter()
                .filter_map(|r| match &r.data {
                    RData::TXT(t) => Some(
                        t.txt_data
                            .iter()
                            .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
                            .collect::<String>(),
                    ),
                    RData::MX(mx) => Some(format!("{} {}", mx.preference, mx.exchange)),
                    _ => None,
                })
                .collect();
            if records.is_empty() {
                Answer::NoRecords
            } else {
                Answer::Records(records)
            }
        }
        Err(NetError::Dns(DnsError::NoRecordsFound(nr))) => {
            if nr.response_code == ResponseCode::NXDomain {
                Answer::NoDomain
            } else {
                Answer::NoRecords
            }
        }
        Err(NetError::Timeout) => Answer::Failed(format!(
            "no answer for {name} {rtype} within {} ({ATTEMPTS} attempts)",
            net::human_duration(limit)
        )),
        Err(e) => Answer::Failed(format!("{name} {rtype}: {e}")),
    }
}

pub async fn collect(p: &Planned, expect: &Expect) -> Evidence {
    let domain = domain_of(p.spec.domain.as_deref().unwrap_or_default());
    let mut e = Evidence {
        domain: domain.clone(),
        txt: BTreeMap::new(),
        mx: None,
        error: None,
    };
    let resolver = match resolver(p) {
        Ok(r) => r,
        Err(err) => {
            e.error = Some(err);
            return e;
        }
    };
    let limit = p.connect_timeout;
    let txt = |name: String| {
        let resolver = resolver.clone();
        async move {
            let a = lookup(&resolver, &name, RecordType::TXT, limit).await;
            (name, a)
        }
    };
    // The domain's own records (domain, DMARC, selectors, lockdown, MX) are asked concurrently.
    let mut names = vec![domain.clone()];
    names.extend(dmarc_names(&domain).into_iter().take(1));
    names.extend(
        expect
            .selectors
            .iter()
            .map(|s| format!("{s}._domainkey.{domain}")),
    );
    if expect.lockdown() {
        names.push(format!("_mailchannels.{domain}"));
    }
    let mx = if expect.mx {
        let resolver = resolver.clone();
        let domain = domain.clone();
        Some(tokio::spawn(async move {
            lookup(&resolver, &domain, RecordType::MX, limit).await
        }))
    } else {
        None
    };
    let handles: Vec<_> = names.into_iter().map(|n| tokio::spawn(txt(n))).collect();
    let mut answers = Vec::with_capacity(handles.len());
    for h in handles {
        if let Ok(a) = h.await {
            answers.push(a);
        }
    }
    let mx = match mx {
        Some(h) => h.await.ok(),
        None => None,
    };
    e.txt.extend(answers);
    e.mx = mx;
    // DMARCbis' tree walk: no record at the domain, ask its parents (not the top-level domain).
    for name in dmarc_names(&domain).into_iter().skip(1) {
        let here = e.txt.get(&dmarc_names(&domain)[0]).cloned();
        let found_before = e
            .txt
            .iter()
            .any(|(n, a)| n.starts_with("_dmarc.") && !dmarc_records(a).is_empty());
        if found_before || matches!(here, Some(Answer::Failed(_))) {
            break;
        }
        let (n, a) = txt(name).await;
        let failed = matches!(a, Answer::Failed(_));
        e.txt.insert(n, a);
        if failed {
            break;
        }
    }
    // SPF includes and redirects, depth first, bounded.
    let mut pending = spf_targets(e.txt.get(&domain));
    let mut followed = 0;
    while let Some(name) = pending.pop() {
        if e.txt.contains_key(&name) {
            continue;
        }
        if followed == MAX_INCLUDES {
            break;
        }
        followed += 1;
        let (n, a) = txt(name).await;
        pending.extend(spf_targets(Some(&a)));
        e.txt.insert(n, a);
    }
    e
}

/// `_dmarc.<domain>`, then `_dmarc.<parent>` up to the registrable-looking two labels.
fn dmarc_names(domain: &str) -> Vec<String> {
    let labels: Vec<&str> = domain.split('.').collect();
    (0..labels.len().saturating_sub(1).max(1))
        .map(|i| format!("_dmarc.{}", labels[i..].join(".")))
        .collect()
}

/// One SPF term: qualifier, mechanism or modifier name (lowercase), its argument.
#[derive(Debug, Clone, PartialEq)]
struct Term {
    qualifier: char,
    name: String,
    arg: Option<String>,
    modifier: bool,
}

/// The SPF records among a name's TXT strings (`v=spf1` followed by a space or the end).
fn spf_records(answer: Option<&Answer>) -> Vec<&str> {
    answer
        .map(Answer::records)
        .unwrap_or_default()
        .iter()
        .map(String::as_str)
        .filter(|r| {
            let l = r.trim_start().to_ascii_lowercase();
            l == "v=spf1" || l.starts_with("v=spf1 ")
        })
        .collect()
}

fn spf_terms(record: &str) -> Vec<Term> {
    record
        .split_ascii_whitespace()
        .skip(1)
        .map(|t| {
            let (qualifier, rest) = match t.chars().next() {
                Some(q @ ('+' | '-' | '~' | '?')) => (q, &t[1..]),
                _ => ('+', t),
            };
            // A modifier is `name=value`; a mechanism `name`, `name:arg` or `name/cidr`.
            let eq = rest.find('=');
            let colon = rest.find([':', '/']);
            match (eq, colon) {
                (Some(i), c) if c.is_none_or(|c| i < c) => Term {
                    qualifier,
                    name: rest[..i].to_ascii_lowercase(),
                    arg: Some(rest[i + 1..].to_owned()),
                    modifier: true,
                },
                (_, Some(i)) => Term {
                    qualifier,
                    name: rest[..i].to_ascii_lowercase(),
                    arg: (rest.as_bytes()[i] == b':').then(|| rest[i + 1..].to_owned()),
                    modifier: false,
                },
                _ => Term {
                    qualifier,
                    name: rest.to_ascii_lowercase(),
                    arg: None,
                    modifier: false,
                },
            }
        })
        .collect()
}

/// The names an SPF record sends receivers to (`include:` and `redirect=` without macros).
fn spf_targets(answer: Option<&Answer>) -> Vec<String> {
    let records = spf_records(answer);
    let [record] = records.as_slice() else {
        return Vec::new();
    };
    spf_terms(record)
        .into_iter()
        .filter(|t| t.name == "include" || (t.modifier && t.name == "redirect"))
        .filter_map(|t| t.arg)
        .filter(|a| !a.contains('%'))
        .map(|a| a.trim_end_matches('.').to_ascii_lowercase())
        .rev()
        .collect()
}

/// The outcome of walking a record's includes.
#[derive(Debug, Default)]
struct Walk {
    /// Terms that cost a DNS lookup (RFC 7208 §4.6.4), counted through includes.
    lookups: usize,
    /// Include / redirect targets reached (lowercase).
    reached: Vec<String>,
    /// An include or redirect whose target has no single SPF record: a permanent error.
    broken: Vec<String>,
    /// Targets that could not be resolved or were not followed.
    unknown: Vec<String>,
}

fn walk(name: &str, txt: &BTreeMap<String, Answer>, depth: usize, out: &mut Walk) {
    if depth > 10 || out.lookups > 10 {
        return;
    }
    let records = spf_records(txt.get(name));
    let [record] = records.as_slice() else {
        return;
    };
    for t in spf_terms(record) {
        let costs = matches!(t.name.as_str(), "include" | "a" | "mx" | "ptr" | "exists")
            && !t.modifier
            || (t.modifier && t.name == "redirect");
        if !costs {
            continue;
        }
        out.lookups += 1;
        let follows = t.name == "include" || t.name == "redirect";
        let Some(target) = t.arg.filter(|_| follows) else {
            continue;
        };
        if target.contains('%') {
            continue;
        }
        let target = target.trim_end_matches('.').to_ascii_lowercase();
        out.reached.push(target.clone());
        match txt.get(&target) {
            None => out.unknown.push(target),
            Some(Answer::Failed(_)) => out.unknown.push(target),
            Some(a) => {
                if spf_records(Some(a)).len() != 1 {
                    out.broken.push(target);
                } else {
                    walk(&target, txt, depth + 1, out);
                }
            }
        }
    }
}

/// The `all` of a record, following `redirect=` when it has none (RFC 7208 §6.1).
fn spf_all(name: &str, txt: &BTreeMap<String, Answer>, depth: usize) -> Option<char> {
    let records = spf_records(txt.get(name));
    let [record] = records.as_slice() else {
        return None;
    };
    let terms = spf_terms(record);
    if let Some(all) = terms.iter().find(|t| t.name == "all" && !t.modifier) {
        return Some(all.qualifier);
    }
    let redirect = terms.iter().find(|t| t.modifier && t.name == "redirect")?;
    if depth > 10 {
        return None;
    }
    let target = redirect
        .arg
        .as_deref()?
        .trim_end_matches('.')
        .to_ascii_lowercase();
    spf_all(&target, txt, depth + 1)
}

fn dmarc_records(answer: &Answer) -> Vec<&str> {
    answer
        .records()
        .iter()
        .map(String::as_str)
        .filter(|r| {
            r.trim_start()
                .get(..8)
                .is_some_and(|v| v.eq_ignore_ascii_case("v=DMARC1"))
        })
        .collect()
}

/// `tag=value; …` (DKIM and DMARC records).
fn tags(record: &str) -> BTreeMap<String, String> {
    record
        .split(';')
        .filter_map(|t| t.split_once('='))
        .map(|(k, v)| {
            (
                k.trim().to_ascii_lowercase(),
                v.chars().filter(|c| !c.is_whitespace()).collect(),
            )
        })
        .collect()
}

/// The size of a DKIM public key in bits, when it can be read.
fn dkim_key_bits(key_type: &str, p: &str) -> Option<usize> {
    let der = base64::engine::general_purpose::STANDARD.decode(p).ok()?;
    if key_type.eq_ignore_ascii_case("ed25519") {
        return Some(der.len() * 8);
    }
    use x509_parser::prelude::FromDer;
    let (_, spki) = x509_parser::x509::SubjectPublicKeyInfo::from_der(&der).ok()?;
    match spki.parsed().ok()? {
        x509_parser::public_key::PublicKey::RSA(rsa) => Some(rsa.key_size()),
        _ => None,
    }
}

fn severity(ctx: Context, rule: ProbeRule) -> Severity {
    let base = rule.info().severity();
    if ctx.production {
        base
    } else if base == Severity::Critical {
        Severity::Warning
    } else {
        Severity::Recommendation
    }
}

pub fn analyse(e: &Evidence, expect: &Expect, ctx: Context) -> Vec<CheckResult> {
    let missing = |check, msg: String| {
        CheckResult::fail(
            check,
            ProbeRule::EmailAuthMissing,
            severity(ctx, ProbeRule::EmailAuthMissing),
            msg,
        )
    };
    let weak = |check, msg: String| {
        CheckResult::fail(
            check,
            ProbeRule::EmailAuthWeak,
            severity(ctx, ProbeRule::EmailAuthWeak),
            msg,
        )
    };
    let unknown =
        |check, msg: String| CheckResult::unknown(check, ProbeRule::EmailAuthMissing, msg);
    let d = &e.domain;
    if let Some(err) = &e.error {
        return vec![unknown("email.dns", err.clone())];
    }
    let mut out = Vec::new();
    let root = e.txt.get(d);
    if root == Some(&Answer::NoDomain) {
        return vec![missing(
            "email.domain",
            format!("{d} does not exist in DNS (NXDOMAIN): no receiver can authenticate its mail"),
        )];
    }
    // SPF.
    match root {
        Some(Answer::Failed(err)) => {
            out.push(unknown(
                "email.spf",
                format!("SPF of {d} could not be read: {err}"),
            ));
        }
        _ => {
            let spf = spf_records(root);
            match spf.len() {
                0 => out.push(missing(
                    "email.spf",
                    format!("{d} has no SPF record (TXT `v=spf1 …`): receivers cannot tell its senders"),
                )),
                1 => out.push(CheckResult::pass("email.spf", ProbeRule::EmailAuthMissing, format!("SPF: {}", spf[0]))),
                n => out.push(missing(
                    "email.spf",
                    format!("{d} has {n} SPF records: receivers treat that as a permanent error (RFC 7208 §4.5) and SPF fails"),
                )),
            }
            if spf.len() == 1 {
                spf_checks(e, expect, &mut out, &missing, &weak, &unknown);
            }
        }
    }
    // DKIM.
    if expect.selectors.is_empty() {
        out.push(unknown(
            "email.dkim",
            "no `dkim_selectors` given and the senders have no default selector: a DKIM key can only be looked up by its selector".into(),
        ));
    }
    for sel in &expect.selectors {
        let name = format!("{sel}._domainkey.{d}");
        match e.txt.get(&name) {
            None => out.push(unknown("email.dkim", format!("{name} was not looked up"))),
            Some(Answer::Failed(err)) => out.push(unknown(
                "email.dkim",
                format!("DKIM key {name} could not be read: {err}"),
            )),
            Some(Answer::NoRecords | Answer::NoDomain) => out.push(missing(
                "email.dkim",
                format!("no DKIM key at {name}: mail signed with selector `{sel}` fails DKIM"),
            )),
            Some(Answer::Records(records)) => {
                let keys: Vec<BTreeMap<String, String>> = records
                    .iter()
                    .map(|r| tags(r))
                    .filter(|t| t.contains_key("p"))
                    .collect();
                match keys.as_slice() {
                    [] => out.push(missing(
                        "email.dkim",
                        format!("{name} holds no DKIM key (no `p=` tag)"),
                    )),
                    [k] => {
                        let p = k.get("p").map(String::as_str).unwrap_or_default();
                        let kt = k.get("k").map_or("rsa", String::as_str);
                        if p.is_empty() {
                            out.push(missing(
                                "email.dkim",
                                format!("the DKIM key at {name} is revoked (empty `p=`)"),
                            ));
                        } else if k.get("v").is_some_and(|v| v != "DKIM1") {
                            out.push(missing("email.dkim", format!("{name}: `v=` must be DKIM1")));
                        } else {
                            match dkim_key_bits(kt, p) {
                                Some(bits) if kt.eq_ignore_ascii_case("rsa") && bits < 1024 => out.push(missing(
                                    "email.dkim",
                                    format!("the DKIM key at {name} is RSA {bits} bits: receivers ignore keys under 1024 bits (RFC 8301)"),
                                )),
                                Some(bits) if kt.eq_ignore_ascii_case("rsa") && bits < 2048 => out.push(weak(
                                    "email.dkim",
                                    format!("the DKIM key at {name} is RSA {bits} bits; 2048 is recommended (RFC 8301)"),
                                )),
                                None if kt.eq_ignore_ascii_case("rsa") => out.push(missing(
                                    "email.dkim",
                                    format!("the DKIM key at {name} is not a readable RSA public key"),
                                )),
                                bits => out.push(CheckResult::pass(
                                    "email.dkim",
                                    ProbeRule::EmailAuthMissing,
                                    format!(
                                        "DKIM key at {name} ({kt}{})",
                                        bits.map(|b| format!(" {b} bits")).unwrap_or_default()
                                    ),
                                )),
                            }
                        }
                    }
                    _ => out.push(missing(
                        "email.dkim",
                        format!("{name} has {} DKIM keys; a selector holds one", keys.len()),
                    )),
                }
            }
        }
    }
    // DMARC.
    dmarc_check(e, ctx, &mut out, &missing, &weak, &unknown);
    // MailChannels Domain Lockdown.
    if expect.lockdown() {
        let name = format!("_mailchannels.{d}");
        match e.txt.get(&name) {
            None | Some(Answer::Failed(_)) => out.push(unknown(
                "email.lockdown",
                format!(
                    "{name} could not be read: {}",
                    match e.txt.get(&name) {
                        Some(Answer::Failed(err)) => err.as_str(),
                        _ => "not looked up",
                    }
                ),
            )),
            Some(a) => {
                let records: Vec<BTreeMap<String, String>> = a
                    .records()
                    .iter()
                    .filter(|r| r.trim_start().to_ascii_lowercase().starts_with("v=mc1"))
                    .map(|r| {
                        r.split_ascii_whitespace()
                            .filter_map(|t| t.split_once('='))
                            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
                            .collect()
                    })
                    .collect();
                let auths: Vec<&str> = records
                    .iter()
                    .filter_map(|r| r.get("auth").map(String::as_str))
                    .collect();
                if records.is_empty() {
                    out.push(missing(
                        "email.lockdown",
                        format!("no MailChannels Domain Lockdown record (TXT `v=mc1 auth=<account-id>` at {name}): MailChannels refuses mail from {d} with 550 5.7.1"),
                    ));
                } else if auths.is_empty() {
                    out.push(missing(
                        "email.lockdown",
                        format!("{name} names no account (`auth=`); `cfid=` is no longer honoured since 2024-08-31, so MailChannels refuses mail from {d}"),
                    ));
                } else if let Some(acct) = expect.account.as_deref().filter(|a| !auths.contains(a))
                {
                    out.push(missing(
                        "email.lockdown",
                        format!(
                            "{name} authorises {} but not the configured account `{acct}`",
                            auths
                                .iter()
                                .map(|a| format!("`{a}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                } else {
                    out.push(CheckResult::pass(
                        "email.lockdown",
                        ProbeRule::EmailAuthMissing,
                        format!("Domain Lockdown authorises {}", auths.join(", ")),
                    ));
                }
            }
        }
    }
    // MX.
    if let Some(mx) = &e.mx {
        let rule = ProbeRule::EmailMxMissing;
        match mx {
            Answer::Failed(err) => out.push(CheckResult::unknown("email.mx", rule, format!("MX of {d} could not be read: {err}"))),
            Answer::NoRecords | Answer::NoDomain => out.push(CheckResult::fail(
                "email.mx",
                rule,
                severity(ctx, rule),
                format!("{d} has no MX record: mail to it is delivered to its A record, if anywhere"),
            )),
            Answer::Records(r) if r.len() == 1 && r[0].split_ascii_whitespace().nth(1) == Some(".") => {
                out.push(CheckResult::fail(
                    "email.mx",
                    rule,
                    severity(ctx, rule),
                    format!("{d} publishes a null MX (RFC 7505): it declares it receives no mail, and the manifest says it does"),
                ))
            }
            Answer::Records(r) => out.push(CheckResult::pass("email.mx", rule, format!("MX: {}", r.join(", ")))),
        }
    }
    out
}

fn spf_checks(
    e: &Evidence,
    expect: &Expect,
    out: &mut Vec<CheckResult>,
    missing: &dyn Fn(&'static str, String) -> CheckResult,
    weak: &dyn Fn(&'static str, String) -> CheckResult,
    unknown: &dyn Fn(&'static str, String) -> CheckResult,
) {
    let d = &e.domain;
    let mut w = Walk::default();
    walk(d, &e.txt, 0, &mut w);
    // Senders included.
    for (id, s) in &expect.senders {
        let found = s.spf.iter().any(|inc| w.reached.iter().any(|r| r == inc));
        if found {
            out.push(CheckResult::pass(
                "email.spf_senders",
                ProbeRule::EmailAuthMissing,
                format!("SPF includes {} ({})", s.spf[0], s.name),
            ));
        } else if !w.unknown.is_empty() {
            out.push(unknown(
                "email.spf_senders",
                format!(
                    "SPF of {d} does not include {} ({}) as far as it could be read; unresolved: {}",
                    s.spf[0],
                    s.name,
                    w.unknown.join(", ")
                ),
            ));
        } else {
            let _ = id;
            out.push(missing(
                "email.spf_senders",
                format!(
                    "SPF of {d} does not include {} ({}): receivers fail SPF for mail it sends (add `include:{}`)",
                    s.spf[0], s.name, s.spf[0]
                ),
            ));
        }
    }
    // The policy for everyone else.
    match spf_all(d, &e.txt, 0) {
        Some('-') | Some('~') => out.push(CheckResult::pass(
            "email.spf_all",
            ProbeRule::EmailAuthMissing,
            "SPF ends in a fail or softfail `all`",
        )),
        Some('+') => out.push(missing(
            "email.spf_all",
            format!("SPF of {d} ends in `+all`: it authorises every server on the internet to send as {d}"),
        )),
        Some(_) => out.push(weak(
            "email.spf_all",
            format!("SPF of {d} ends in `?all` (neutral): unlisted servers are neither failed nor passed; use `~all` or `-all`"),
        )),
        None => out.push(weak(
            "email.spf_all",
            format!("SPF of {d} has no `all`: unlisted servers get a neutral result; end it with `~all` or `-all`"),
        )),
    }
    // Lookups and broken includes.
    if !w.broken.is_empty() {
        out.push(missing(
            "email.spf_lookups",
            format!(
                "SPF of {d} includes {}, which has no single SPF record: receivers treat that as a permanent error (RFC 7208 §5.2)",
                w.broken.join(", ")
            ),
        ));
    } else if w.lookups > 10 {
        out.push(missing(
            "email.spf_lookups",
            format!("SPF of {d} needs more than 10 DNS lookups ({}{}): receivers stop at 10 and fail it (RFC 7208 §4.6.4)", w.lookups, if w.lookups >= MAX_INCLUDES { " or more" } else { "" }),
        ));
    } else if !w.unknown.is_empty() {
        out.push(unknown(
            "email.spf_lookups",
            format!("SPF of {d}: {} could not be resolved", w.unknown.join(", ")),
        ));
    } else {
        out.push(CheckResult::pass(
            "email.spf_lookups",
            ProbeRule::EmailAuthMissing,
            format!("SPF needs {} of the 10 DNS lookups allowed", w.lookups),
        ));
    }
}

fn dmarc_check(
    e: &Evidence,
    ctx: Context,
    out: &mut Vec<CheckResult>,
    missing: &dyn Fn(&'static str, String) -> CheckResult,
    weak: &dyn Fn(&'static str, String) -> CheckResult,
    unknown: &dyn Fn(&'static str, String) -> CheckResult,
) {
    let d = &e.domain;
    let names = dmarc_names(d);
    for name in &names {
        let Some(a) = e.txt.get(name) else {
            break;
        };
        if let Answer::Failed(err) = a {
            out.push(unknown(
                "email.dmarc",
                format!("DMARC of {d} could not be read: {err}"),
            ));
            return;
        }
        let records = dmarc_records(a);
        match records.as_slice() {
            [] => continue,
            [r] => {
                let t = tags(r);
                let policy = t.get("p").map(|p| p.to_ascii_lowercase());
                let at = if name == &names[0] {
                    String::new()
                } else {
                    format!(" (from {name})")
                };
                match policy.as_deref() {
                    Some("reject") | Some("quarantine") => {
                        let pct = t.get("pct").and_then(|p| p.parse::<u32>().ok()).unwrap_or(100);
                        if pct < 100 {
                            out.push(weak(
                                "email.dmarc",
                                format!("DMARC of {d}{at} applies p={} to only {pct}% of failing mail", policy.unwrap_or_default()),
                            ));
                        } else {
                            out.push(CheckResult::pass(
                                "email.dmarc",
                                ProbeRule::EmailAuthMissing,
                                format!("DMARC p={}{at}", policy.unwrap_or_default()),
                            ));
                        }
                    }
                    Some("none") => out.push(weak(
                        "email.dmarc",
                        format!(
                            "DMARC of {d}{at} is p=none (monitoring only): spoofed mail is still delivered{}",
                            if ctx.production { "; production wants p=quarantine or p=reject" } else { "" }
                        ),
                    )),
                    _ => out.push(missing(
                        "email.dmarc",
                        format!("the DMARC record of {d}{at} has no valid `p=` policy: receivers ignore it"),
                    )),
                }
                return;
            }
            many => {
                out.push(missing(
                    "email.dmarc",
                    format!("{name} has {} DMARC records: receivers ignore DMARC when there is more than one (RFC 7489 §6.6.3)", many.len()),
                ));
                return;
            }
        }
    }
    out.push(missing(
        "email.dmarc",
        format!("{d} has no DMARC record (TXT `v=DMARC1; p=…` at _dmarc.{d}): receivers apply no policy to mail spoofing it"),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{ctx, failed};

    fn ev(domain: &str, txt: &[(&str, Answer)], mx: Option<Answer>) -> Evidence {
        Evidence {
            domain: domain.into(),
            txt: txt
                .iter()
                .map(|(n, a)| ((*n).to_owned(), a.clone()))
                .collect(),
            mx,
            error: None,
        }
    }

    fn recs(r: &[&str]) -> Answer {
        Answer::Records(r.iter().map(|s| (*s).to_owned()).collect())
    }

    fn expect(senders: &[&str], selectors: &[&str], account: Option<&str>, mx: bool) -> Expect {
        Expect {
            senders: senders
                .iter()
                .map(|s| ((*s).to_owned(), email_sender(s).unwrap()))
                .collect(),
            selectors: selectors.iter().map(|s| (*s).to_owned()).collect(),
            account: account.map(str::to_owned),
            mx,
        }
    }

    // A 2048-bit RSA SubjectPublicKeyInfo is 294 bytes; the test only needs a parsable one, so
    // it is made from a fixed modulus of the right size.
    fn rsa_spki_b64(bits: usize) -> String {
        let n_len = bits / 8;
        let mut modulus = vec![0xC5u8; n_len];
        modulus[n_len - 1] |= 1;
        let der_int = |bytes: &[u8]| {
            let mut v = vec![0x02];
            let mut body = vec![0];
            body.extend_from_slice(bytes);
            v.extend(der_len(body.len()));
            v.extend(body);
            v
        };
        fn der_len(n: usize) -> Vec<u8> {
            if n < 128 {
                vec![n as u8]
            } else if n < 256 {
                vec![0x81, n as u8]
            } else {
                vec![0x82, (n >> 8) as u8, n as u8]
            }
        }
        let mut rsa_key = der_int(&modulus);
        rsa_key.extend([0x02, 0x03, 0x01, 0x00, 0x01]);
        let mut seq = vec![0x30];
        seq.extend(der_len(rsa_key.len()));
        seq.extend(rsa_key);
        let mut bit_string = vec![0x03];
        bit_string.extend(der_len(seq.len() + 1));
        bit_string.push(0);
        bit_string.extend(seq);
        let alg = [
            0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05,
            0x00,
        ];
        let mut body = alg.to_vec();
        body.extend(bit_string);
        let mut spki = vec![0x30];
        spki.extend(der_len(body.len()));
        spki.extend(body);
        base64::engine::general_purpose::STANDARD.encode(spki)
    }

    fn good(domain: &str) -> Vec<(String, Answer)> {
        vec![
            (
                domain.into(),
                recs(&[
                    "v=spf1 include:relay.mailchannels.net ~all",
                    "google-site-verification=abc",
                ]),
            ),
            (
                "relay.mailchannels.net".into(),
                recs(&["v=spf1 ip4:192.0.2.0/24 ~all"]),
            ),
            (
                format!("_dmarc.{domain}"),
                recs(&["v=DMARC1; p=reject; rua=mailto:d@example.com"]),
            ),
            (
                format!("mc._domainkey.{domain}"),
                recs(&[&format!("v=DKIM1; k=rsa; p={}", rsa_spki_b64(2048))]),
            ),
            (
                format!("_mailchannels.{domain}"),
                recs(&["v=mc1 auth=acme"]),
            ),
        ]
    }

    fn run(
        txt: Vec<(String, Answer)>,
        mx: Option<Answer>,
        x: &Expect,
        production: bool,
    ) -> Vec<CheckResult> {
        let e = Evidence {
            domain: "example.com".into(),
            txt: txt.into_iter().collect(),
            mx,
            error: None,
        };
        analyse(&e, x, ctx(production))
    }

    fn set(txt: &mut Vec<(String, Answer)>, name: &str, a: Answer) {
        txt.retain(|(n, _)| n != name);
        txt.push((name.into(), a));
    }

    #[test]
    fn a_well_set_up_domain_passes_every_check() {
        let x = expect(&["mailchannels"], &["mc"], Some("acme"), true);
        let checks = run(
            good("example.com"),
            Some(recs(&["10 mx.example.com."])),
            &x,
            true,
        );
        assert_eq!(failed(&checks), vec![], "{checks:#?}");
        let ids: Vec<&str> = checks.iter().map(|c| c.check).collect();
        for id in [
            "email.spf",
            "email.spf_senders",
            "email.spf_all",
            "email.spf_lookups",
            "email.dkim",
            "email.dmarc",
            "email.lockdown",
            "email.mx",
        ] {
            assert!(ids.contains(&id), "{id} in {ids:?}");
        }
        assert!(checks.iter().all(|c| c.status == crate::Status::Pass));
    }

    #[test]
    fn spf_problems_are_each_named() {
        let x = expect(&["mailchannels"], &["mc"], None, false);
        let only = |txt: Vec<(String, Answer)>| -> Vec<(&'static str, ProbeRule, Severity)> {
            failed(&run(txt, None, &x, true))
        };
        let mut t = good("example.com");
        set(
            &mut t,
            "example.com",
            recs(&["v=spf1 include:sendgrid.net ~all"]),
        );
        set(&mut t, "sendgrid.net", recs(&["v=spf1 ip4:192.0.2.1 -all"]));
        assert_eq!(
            only(t),
            [(
                "email.spf_senders",
                ProbeRule::EmailAuthMissing,
                Severity::Critical
            )]
        );

        let mut t = good("example.com");
        set(
            &mut t,
            "example.com",
            recs(&["v=spf1 include:relay.mailchannels.net ~all", "v=spf1 -all"]),
        );
        assert_eq!(
            only(t),
            [("email.spf", ProbeRule::EmailAuthMissing, Severity::Critical)]
        );

        let mut t = good("example.com");
        set(
            &mut t,
            "example.com",
            recs(&["v=spf1 include:relay.mailchannels.net +all"]),
        );
        assert_eq!(
            only(t),
            [(
                "email.spf_all",
                ProbeRule::EmailAuthMissing,
                Severity::Critical
            )]
        );

        let mut t = good("example.com");
        set(
            &mut t,
            "example.com",
            recs(&["v=spf1 include:relay.mailchannels.net ?all"]),
        );
        assert_eq!(
            only(t),
            [("email.spf_all", ProbeRule::EmailAuthWeak, Severity::Warning)]
        );

        let mut t = good("example.com");
        set(&mut t, "example.com", recs(&["other text"]));
        let f = only(t);
        assert_eq!(
            f,
            [("email.spf", ProbeRule::EmailAuthMissing, Severity::Critical)]
        );

        // Eleven lookups through a chain of includes.
        let mut t = good("example.com");
        set(
            &mut t,
            "example.com",
            recs(&["v=spf1 a mx include:relay.mailchannels.net include:c1.example.com -all"]),
        );
        for i in 1..=4 {
            set(
                &mut t,
                &format!("c{i}.example.com"),
                recs(&[&format!("v=spf1 a mx include:c{}.example.com", i + 1)]),
            );
        }
        set(&mut t, "c5.example.com", recs(&["v=spf1 ip4:192.0.2.9"]));
        assert_eq!(
            only(t),
            [(
                "email.spf_lookups",
                ProbeRule::EmailAuthMissing,
                Severity::Critical
            )]
        );

        // An include without an SPF record is a permanent error; an unresolvable one unknown.
        let mut t = good("example.com");
        set(&mut t, "relay.mailchannels.net", Answer::NoDomain);
        assert_eq!(
            only(t.clone()),
            [(
                "email.spf_lookups",
                ProbeRule::EmailAuthMissing,
                Severity::Critical
            )]
        );
        set(
            &mut t,
            "relay.mailchannels.net",
            Answer::Failed("timed out".into()),
        );
        let checks = run(t, None, &x, true);
        assert_eq!(failed(&checks), vec![]);
        assert!(checks
            .iter()
            .any(|c| c.check == "email.spf_lookups" && c.status == crate::Status::Unknown));
    }

    #[test]
    fn redirect_counts_and_lends_its_all() {
        let x = expect(&["mailchannels"], &["mc"], None, false);
        let mut t = good("example.com");
        set(
            &mut t,
            "example.com",
            recs(&["v=spf1 redirect=_spf.example.com"]),
        );
        set(
            &mut t,
            "_spf.example.com",
            recs(&["v=spf1 include:relay.mailchannels.net -all"]),
        );
        let checks = run(t, None, &x, true);
        assert_eq!(failed(&checks), vec![], "{checks:#?}");
        assert!(checks.iter().any(|c| c.message.contains("2 of the 10")));
    }

    #[test]
    fn dkim_dmarc_and_lockdown_problems() {
        let x = expect(&["mailchannels"], &["mc"], Some("acme"), false);
        let only = |t: Vec<(String, Answer)>, prod: bool| failed(&run(t, None, &x, prod));
        let mut t = good("example.com");
        set(
            &mut t,
            "mc._domainkey.example.com",
            recs(&["v=DKIM1; k=rsa; p="]),
        );
        assert_eq!(
            only(t, true),
            [(
                "email.dkim",
                ProbeRule::EmailAuthMissing,
                Severity::Critical
            )]
        );
        let mut t = good("example.com");
        set(
            &mut t,
            "mc._domainkey.example.com",
            recs(&[&format!("v=DKIM1; p={}", rsa_spki_b64(1024))]),
        );
        assert_eq!(
            only(t, true),
            [("email.dkim", ProbeRule::EmailAuthWeak, Severity::Warning)]
        );
        let mut t = good("example.com");
        set(
            &mut t,
            "mc._domainkey.example.com",
            recs(&[&format!("v=DKIM1; p={}", rsa_spki_b64(512))]),
        );
        assert_eq!(
            only(t, true),
            [(
                "email.dkim",
                ProbeRule::EmailAuthMissing,
                Severity::Critical
            )]
        );
        let mut t = good("example.com");
        set(&mut t, "mc._domainkey.example.com", Answer::NoDomain);
        assert_eq!(
            only(t.clone(), true),
            [(
                "email.dkim",
                ProbeRule::EmailAuthMissing,
                Severity::Critical
            )]
        );
        // Outside production a missing record is a warning.
        assert_eq!(
            only(t, false),
            [("email.dkim", ProbeRule::EmailAuthMissing, Severity::Warning)]
        );

        let mut t = good("example.com");
        set(&mut t, "_dmarc.example.com", recs(&["v=DMARC1; p=none"]));
        assert_eq!(
            only(t, true),
            [("email.dmarc", ProbeRule::EmailAuthWeak, Severity::Warning)]
        );
        let mut t = good("example.com");
        set(&mut t, "_dmarc.example.com", Answer::NoDomain);
        assert_eq!(
            only(t, true),
            [(
                "email.dmarc",
                ProbeRule::EmailAuthMissing,
                Severity::Critical
            )]
        );
        let mut t = good("example.com");
        set(
            &mut t,
            "_dmarc.example.com",
            recs(&["v=DMARC1; p=reject", "v=DMARC1; p=none"]),
        );
        assert_eq!(
            only(t, true),
            [(
                "email.dmarc",
                ProbeRule::EmailAuthMissing,
                Severity::Critical
            )]
        );

        let mut t = good("example.com");
        set(
            &mut t,
            "_mailchannels.example.com",
            recs(&["v=mc1 auth=other"]),
        );
        assert_eq!(
            only(t, true),
            [(
                "email.lockdown",
                ProbeRule::EmailAuthMissing,
                Severity::Critical
            )]
        );
        let mut t = good("example.com");
        set(
            &mut t,
            "_mailchannels.example.com",
            recs(&["v=mc1 cfid=app.workers.dev"]),
        );
        assert_eq!(
            only(t, true),
            [(
                "email.lockdown",
                ProbeRule::EmailAuthMissing,
                Severity::Critical
            )]
        );
        let mut t = good("example.com");
        set(&mut t, "_mailchannels.example.com", Answer::NoDomain);
        assert_eq!(
            only(t, true),
            [(
                "email.lockdown",
                ProbeRule::EmailAuthMissing,
                Severity::Critical
            )]
        );
    }

    #[test]
    fn dmarc_is_found_on_a_parent_domain() {
        let e = ev(
            "mail.example.com",
            &[
                ("mail.example.com", recs(&["v=spf1 -all"])),
                ("_dmarc.mail.example.com", Answer::NoDomain),
                ("_dmarc.example.com", recs(&["v=DMARC1; p=quarantine"])),
            ],
            None,
        );
        let checks = analyse(&e, &expect(&[], &["s"], None, false), ctx(true));
        let dmarc = checks.iter().find(|c| c.check == "email.dmarc").unwrap();
        assert_eq!(dmarc.status, crate::Status::Pass, "{dmarc:?}");
        assert!(dmarc.message.contains("from _dmarc.example.com"));
        assert_eq!(
            dmarc_names("a.b.example.com"),
            [
                "_dmarc.a.b.example.com",
                "_dmarc.b.example.com",
                "_dmarc.example.com"
            ]
        );
        assert_eq!(dmarc_names("example.com"), ["_dmarc.example.com"]);
    }

    #[test]
    fn mx_null_and_absent() {
        let x = expect(&[], &[], None, true);
        let mx = |a: Answer| {
            failed(&run(good("example.com"), Some(a), &x, true))
                .into_iter()
                .filter(|f| f.0 == "email.mx")
                .collect::<Vec<_>>()
        };
        assert_eq!(
            mx(Answer::NoRecords),
            [("email.mx", ProbeRule::EmailMxMissing, Severity::Critical)]
        );
        assert_eq!(
            mx(recs(&["0 ."])),
            [("email.mx", ProbeRule::EmailMxMissing, Severity::Critical)]
        );
        assert_eq!(mx(recs(&["10 mx.example.com."])), vec![]);
    }

    #[test]
    fn a_missing_domain_and_an_unanswered_lookup() {
        let x = expect(&["mailchannels"], &["mc"], None, false);
        let checks = run(
            vec![("example.com".into(), Answer::NoDomain)],
            None,
            &x,
            true,
        );
        assert_eq!(
            failed(&checks),
            [(
                "email.domain",
                ProbeRule::EmailAuthMissing,
                Severity::Critical
            )]
        );
        let mut t = good("example.com");
        set(
            &mut t,
            "example.com",
            Answer::Failed("no answer within 3s".into()),
        );
        let checks = run(t, None, &x, true);
        assert!(checks
            .iter()
            .any(|c| c.check == "email.spf" && c.status == crate::Status::Unknown));
    }

    #[test]
    fn spf_terms_parse_qualifiers_mechanisms_and_modifiers() {
        let t = spf_terms("v=spf1 -ip4:192.0.2.0/24 a/24 mx:mail.example.com ~include:x.test redirect=y.test exp=z ?all");
        let names: Vec<(char, &str, bool)> = t
            .iter()
            .map(|t| (t.qualifier, t.name.as_str(), t.modifier))
            .collect();
        assert_eq!(
            names,
            [
                ('-', "ip4", false),
                ('+', "a", false),
                ('+', "mx", false),
                ('~', "include", false),
                ('+', "redirect", true),
                ('+', "exp", true),
                ('?', "all", false)
            ]
        );
        assert_eq!(domain_of(" Noreply@RossTax.Example. "), "rosstax.example");
    }
}
