//! `enabled_if` conditions: `ENABLE_PROCTOR_U == 'true'`, `AI_INSTRUCTOR_PROVIDER != 'openai'`,
//! `A && (B || !C)`. A tiny language written here because a general expression crate would accept
//! far more (arithmetic, function calls) than a manifest should say, and give worse errors.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// `NAME`: the variable is set to a truthy value (anything but empty, false, 0, no, off).
    Truthy(String),
    Equals(String, String),
    NotEquals(String, String),
    Not(Box<Condition>),
    And(Box<Condition>, Box<Condition>),
    Or(Box<Condition>, Box<Condition>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionError {
    /// Byte offset in the expression.
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for ConditionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at character {})", self.message, self.offset + 1)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Name(String),
    Str(String),
    Eq,
    Ne,
    And,
    Or,
    Not,
    Open,
    Close,
}

fn tokenize(src: &str) -> Result<Vec<(usize, Token)>, ConditionError> {
    let mut out = Vec::new();
    let chars: Vec<(usize, char)> = src.char_indices().collect();
    let mut i = 0;
    let err = |offset, message: &str| ConditionError {
        offset,
        message: message.to_owned(),
    };
    while i < chars.len() {
        let (at, c) = chars[i];
        let next = chars.get(i + 1).map(|&(_, c)| c);
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push((at, Token::Open));
                i += 1;
            }
            ')' => {
                out.push((at, Token::Close));
                i += 1;
            }
            '=' if next == Some('=') => {
                out.push((at, Token::Eq));
                i += 2;
            }
            '!' if next == Some('=') => {
                out.push((at, Token::Ne));
                i += 2;
            }
            '!' => {
                out.push((at, Token::Not));
                i += 1;
            }
            '&' if next == Some('&') => {
                out.push((at, Token::And));
                i += 2;
            }
            '|' if next == Some('|') => {
                out.push((at, Token::Or));
                i += 2;
            }
            '\'' | '"' => {
                let quote = c;
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(err(at, "unterminated string")),
                        Some(&(_, ch)) if ch == quote => {
                            i += 1;
                            break;
                        }
                        Some(&(_, ch)) => {
                            s.push(ch);
                            i += 1;
                        }
                    }
                }
                out.push((at, Token::Str(s)));
            }
            c if c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-' => {
                let mut s = String::new();
                while let Some(&(_, ch)) = chars.get(i) {
                    if ch.is_ascii_alphanumeric() || ch == '_' || ch == '.' || ch == '-' {
                        s.push(ch);
                        i += 1;
                    } else {
                        break;
                    }
                }
                out.push((
                    at,
                    match s.as_str() {
                        "and" => Token::And,
                        "or" => Token::Or,
                        "not" => Token::Not,
                        _ => Token::Name(s),
                    },
                ));
            }
            _ => return Err(err(at, &format!("unexpected `{c}`"))),
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    pos: usize,
    len: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|(_, t)| t)
    }
    fn offset(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.len, |(o, _)| *o)
    }
    fn error(&self, message: &str) -> ConditionError {
        ConditionError {
            offset: self.offset(),
            message: message.to_owned(),
        }
    }
    fn or(&mut self) -> Result<Condition, ConditionError> {
        let mut left = self.and()?;
        while self.peek() == Some(&Token::Or) {
            self.pos += 1;
            left = Condition::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }
    fn and(&mut self) -> Result<Condition, ConditionError> {
        let mut left = self.unary()?;
        while self.peek() == Some(&Token::And) {
            self.pos += 1;
            left = Condition::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }
    fn unary(&mut self) -> Result<Condition, ConditionError> {
        if self.peek() == Some(&Token::Not) {
            self.pos += 1;
            return Ok(Condition::Not(Box::new(self.unary()?)));
        }
        self.primary()
    }
    fn primary(&mut self) -> Result<Condition, ConditionError> {
        match self.peek().cloned() {
            Some(Token::Open) => {
                self.pos += 1;
                let inner = self.or()?;
                if self.peek() != Some(&Token::Close) {
                    return Err(self.error("expected `)`"));
                }
                self.pos += 1;
                Ok(inner)
            }
            Some(Token::Name(name)) => {
                self.pos += 1;
                let op = self.peek().cloned();
                if matches!(op, Some(Token::Eq | Token::Ne)) {
                    self.pos += 1;
                    let value = match self.peek().cloned() {
                        Some(Token::Str(s)) | Some(Token::Name(s)) => s,
                        _ => return Err(self.error("expected a value after the comparison")),
                    };
                    self.pos += 1;
                    Ok(if op == Some(Token::Eq) {
                        Condition::Equals(name, value)
                    } else {
                        Condition::NotEquals(name, value)
                    })
                } else {
                    Ok(Condition::Truthy(name))
                }
            }
            _ => Err(self.error("expected a variable name, `!` or `(`")),
        }
    }
}

impl Condition {
    pub fn parse(src: &str) -> Result<Condition, ConditionError> {
        let tokens = tokenize(src)?;
        let mut p = Parser {
            tokens,
            pos: 0,
            len: src.len(),
        };
        let c = p.or()?;
        if p.pos != p.tokens.len() {
            return Err(p.error("unexpected text after the condition"));
        }
        Ok(c)
    }

    /// Evaluates against a lookup of variable values (unset variables read as empty).
    pub fn eval(&self, lookup: &dyn Fn(&str) -> Option<String>) -> bool {
        match self {
            Condition::Truthy(n) => {
                lookup(n).is_some_and(|v| !v.is_empty() && crate::catalog::parse_bool_lenient(&v))
            }
            Condition::Equals(n, v) => lookup(n).unwrap_or_default() == *v,
            Condition::NotEquals(n, v) => lookup(n).unwrap_or_default() != *v,
            Condition::Not(c) => !c.eval(lookup),
            Condition::And(a, b) => a.eval(lookup) && b.eval(lookup),
            Condition::Or(a, b) => a.eval(lookup) || b.eval(lookup),
        }
    }

    /// Every variable the condition reads.
    pub fn variables(&self) -> Vec<&str> {
        match self {
            Condition::Truthy(n) | Condition::Equals(n, _) | Condition::NotEquals(n, _) => {
                vec![n.as_str()]
            }
            Condition::Not(c) => c.variables(),
            Condition::And(a, b) | Condition::Or(a, b) => {
                let mut v = a.variables();
                v.extend(b.variables());
                v
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn seed_conditions() {
        let c = Condition::parse("ENABLE_PROCTOR_U == 'true'").unwrap();
        assert!(c.eval(&env(&[("ENABLE_PROCTOR_U", "true")])));
        assert!(!c.eval(&env(&[("ENABLE_PROCTOR_U", "false")])));
        let c = Condition::parse("AI_INSTRUCTOR_PROVIDER == 'claude' || ENABLE_ALL").unwrap();
        assert!(c.eval(&env(&[("AI_INSTRUCTOR_PROVIDER", "claude")])));
        assert!(c.eval(&env(&[("ENABLE_ALL", "yes")])));
        assert!(!c.eval(&env(&[("ENABLE_ALL", "false")])));
        let c = Condition::parse("!(A && B)").unwrap();
        assert!(c.eval(&env(&[("A", "1")])));
    }

    #[test]
    fn errors_point_at_the_problem() {
        let e = Condition::parse("A == ").unwrap_err();
        assert_eq!(e.offset, 5);
        assert!(Condition::parse("A = 'x'").is_err());
        assert!(Condition::parse("(A").is_err());
    }
}
