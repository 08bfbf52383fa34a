//! The `MLmodel` file: YAML parsed into the values PyYAML's `safe_load` would give, plus the
//! facts the loader needs (pyfunc flavor, loader module, data path).
//!
//! MLflow writes MLmodel with `yaml.safe_dump` and reads it with `yaml.safe_load` (YAML 1.1
//! typing: `yes` is true, `1e5` is a string, a dot makes a float). Scalars are typed here from
//! their style and PyYAML's resolver rules. Anything whose PyYAML value this module does not
//! reproduce exactly (tags, aliases, timestamps, non-decimal ints, non-string keys, several
//! documents) is `Declined`, and the Python side hands the text to PyYAML, so the result (or
//! the error) is always stock's.

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::TScalarStyle;

use crate::error::{declined, CoreResult};

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    /// A decimal integer beyond i64, kept as its digits (Python ints are unbounded).
    BigInt(String),
    Float(f64),
    Str(String),
    List(Vec<Value>),
    /// In document order; a repeated key keeps its first position and its last value, as a
    /// Python dict built by assignment does.
    Map(Vec<(String, Value)>),
}

impl Value {
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// What the loader checks before any flavor code runs.
#[derive(Debug, Clone, PartialEq)]
pub struct MlModel {
    pub doc: Value,
    /// `flavors.python_function.loader_module`, when the model has the pyfunc flavor.
    pub loader_module: Option<String>,
    pub has_pyfunc: bool,
    /// `flavors.python_function.data`: relative path of the flavor's data inside the model.
    pub data: Option<String>,
    /// `metadata["mlflow.model.isExternal"]` is true: the artifacts live outside the directory.
    pub is_external: bool,
}

pub fn parse_mlmodel(text: &str) -> CoreResult<MlModel> {
    let doc = parse_yaml(text)?;
    if !matches!(doc, Value::Map(_)) {
        return Err(declined("MLmodel is not a mapping"));
    }
    let pyfunc = doc.get("flavors").and_then(|f| f.get("python_function"));
    let has_pyfunc = pyfunc.is_some_and(|p| !matches!(p, Value::Null));
    let loader_module = pyfunc
        .and_then(|p| p.get("loader_module"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let data = pyfunc
        .and_then(|p| p.get("data"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let is_external = matches!(
        doc.get("metadata")
            .and_then(|m| m.get("mlflow.model.isExternal")),
        Some(Value::Bool(true))
    );
    Ok(MlModel {
        doc,
        loader_module,
        has_pyfunc,
        data,
        is_external,
    })
}

/// One YAML document into PyYAML `safe_load` values, or `Declined`.
pub fn parse_yaml(text: &str) -> CoreResult<Value> {
    // PyYAML skips a byte-order mark at the start of the stream.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Value> = None;
    let mut documents = 0usize;
    loop {
        let (event, _) = parser
            .next_token()
            .map_err(|e| declined(format!("yaml: {e}")))?;
        let value = match event {
            Event::StreamEnd => break,
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => continue,
            Event::DocumentStart => {
                documents += 1;
                if documents > 1 {
                    return Err(declined("several YAML documents"));
                }
                continue;
            }
            Event::Alias(_) => return Err(declined("YAML alias")),
            Event::Scalar(text, style, anchor, tag) => {
                if anchor != 0 || tag.is_some() {
                    return Err(declined("YAML anchor or tag"));
                }
                scalar(text, style)?
            }
            Event::SequenceStart(anchor, ref tag) | Event::MappingStart(anchor, ref tag) => {
                if anchor != 0 || tag.is_some() {
                    return Err(declined("YAML anchor or tag"));
                }
                stack.push(if matches!(event, Event::SequenceStart(..)) {
                    Frame::List(Vec::new())
                } else {
                    Frame::Map(Vec::new(), None)
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::List(items)) => Value::List(items),
                Some(Frame::Map(entries, None)) => Value::Map(entries),
                _ => return Err(declined("unbalanced YAML events")),
            },
        };
        match stack.last_mut() {
            None => root = Some(value),
            Some(Frame::List(items)) => items.push(value),
            Some(Frame::Map(entries, pending)) => match pending.take() {
                None => match value {
                    Value::Str(key) => *pending = Some(key),
                    _ => return Err(declined("a mapping key that is not a string")),
                },
                Some(key) => {
                    if let Some(slot) = entries.iter_mut().find(|(k, _)| *k == key) {
                        slot.1 = value;
                    } else {
                        entries.push((key, value));
                    }
                }
            },
        }
    }
    // An empty stream is `None` for PyYAML.
    Ok(root.unwrap_or(Value::Null))
}

enum Frame {
    List(Vec<Value>),
    Map(Vec<(String, Value)>, Option<String>),
}

fn scalar(text: String, style: TScalarStyle) -> CoreResult<Value> {
    if style != TScalarStyle::Plain {
        return Ok(Value::Str(text));
    }
    resolve_plain(text)
}

/// PyYAML's `Resolver` for plain scalars (`yaml/resolver.py`), the parts MLmodel files use.
fn resolve_plain(text: String) -> CoreResult<Value> {
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Ok(Value::Null),
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Ok(Value::Bool(true))
        }
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Ok(Value::Bool(false))
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Ok(Value::Float(f64::INFINITY))
        }
        "-.inf" | "-.Inf" | "-.INF" => return Ok(Value::Float(f64::NEG_INFINITY)),
        ".nan" | ".NaN" | ".NAN" => return Ok(Value::Float(f64::NAN)),
        "<<" | "=" => return Err(declined("YAML merge or value key")),
        _ => {}
    }
    let bytes = text.as_bytes();
    let first = bytes[0];
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return Ok(Value::Str(text));
    }
    if looks_like_timestamp(bytes) {
        return Err(declined("YAML timestamp"));
    }
    if let Some(value) = decimal_int(&text)? {
        return Ok(value);
    }
    if let Some(value) = float(&text) {
        return Ok(Value::Float(value));
    }
    if other_int_form(bytes) || text.contains(':') {
        // 0b/0x/octal ints and sexagesimal numbers: rare, and PyYAML has its own rules.
        return Err(declined("non-decimal YAML number"));
    }
    Ok(Value::Str(text))
}

/// `[-+]?(?:0|[1-9][0-9_]*)`
fn decimal_int(text: &str) -> CoreResult<Option<Value>> {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let valid = digits == "0"
        || (digits
            .as_bytes()
            .first()
            .is_some_and(|b| (b'1'..=b'9').contains(b))
            && digits.bytes().all(|b| b.is_ascii_digit() || b == b'_'));
    if !valid {
        return Ok(None);
    }
    let cleaned: String = text.chars().filter(|&c| c != '_').collect();
    Ok(Some(match cleaned.parse::<i64>() {
        Ok(v) => Value::Int(v),
        Err(_) => Value::BigInt(cleaned.trim_start_matches('+').to_owned()),
    }))
}

/// `[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?` or `\.[0-9_]+(?:[eE][-+][0-9]+)?`
fn float(text: &str) -> Option<f64> {
    let (signed, body) = match text.strip_prefix(['-', '+']) {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let (int_part, frac_part) = mantissa.split_once('.')?;
    let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    if int_part.is_empty() {
        // `.5` form: no sign allowed, at least one digit after the dot.
        let leading_digit = frac_part.as_bytes().first().is_some_and(u8::is_ascii_digit);
        if signed || !leading_digit || !digits_ok(frac_part) {
            return None;
        }
    } else if !int_part.as_bytes()[0].is_ascii_digit()
        || !digits_ok(int_part)
        || !digits_ok(frac_part)
    {
        return None;
    }
    if let Some(exp) = exponent {
        let digits = exp.strip_prefix(['-', '+'])?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    let cleaned: String = text.chars().filter(|&c| c != '_').collect();
    let normalized = if cleaned.ends_with('.') || cleaned.contains(".e") || cleaned.contains(".E") {
        cleaned.replacen('.', ".0", 1)
    } else {
        cleaned
    };
    normalized.parse::<f64>().ok()
}

/// `[-+]?0b[0-1_]+`, `[-+]?0[0-7_]+` or `[-+]?0x[0-9a-fA-F_]+`
fn other_int_form(bytes: &[u8]) -> bool {
    let body = match bytes.first() {
        Some(b'-' | b'+') => &bytes[1..],
        _ => bytes,
    };
    let all =
        |s: &[u8], ok: fn(&u8) -> bool| !s.is_empty() && s.iter().all(|b| *b == b'_' || ok(b));
    match body {
        [b'0', b'b', rest @ ..] => all(rest, |b| matches!(b, b'0' | b'1')),
        [b'0', b'x', rest @ ..] => all(rest, u8::is_ascii_hexdigit),
        [b'0', rest @ ..] => all(rest, |b| (b'0'..=b'7').contains(b)),
        _ => false,
    }
}

/// PyYAML's timestamp resolver starts with `[0-9]{4}-[0-9]{1,2}-`.
fn looks_like_timestamp(bytes: &[u8]) -> bool {
    bytes.len() >= 8
        && bytes[..4].iter().all(u8::is_ascii_digit)
        && bytes[4] == b'-'
        && bytes[5].is_ascii_digit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mlflow_written_file() {
        let text = "artifact_path: model\nflavors:\n  python_function:\n    env:\n      conda: conda.yaml\n    loader_module: mlflow.sklearn\n    model_path: model.pkl\n    predict_fn: predict\n    python_version: 3.11.2\n  sklearn:\n    code: null\n    pickled_model: model.pkl\n    serialization_format: cloudpickle\n    sklearn_version: 1.9.1\nis_signature_from_type_hint: false\nmlflow_version: 3.17.2\nmodel_size_bytes: 1234\nutc_time_created: '2026-12-05 05:00:00.123456'\n";
        let model = parse_mlmodel(text).unwrap();
        assert!(model.has_pyfunc);
        assert_eq!(model.loader_module.as_deref(), Some("mlflow.sklearn"));
        assert_eq!(
            model.doc.get("utc_time_created"),
            Some(&Value::Str("2026-12-05 05:00:00.123456".into()))
        );
        assert_eq!(model.doc.get("model_size_bytes"), Some(&Value::Int(1234)));
        assert_eq!(
            model.doc.get("is_signature_from_type_hint"),
            Some(&Value::Bool(false))
        );
        // 3.11.2 is not a float for PyYAML (two dots): a string.
        let pyfunc = model
            .doc
            .get("flavors")
            .unwrap()
            .get("python_function")
            .unwrap();
        assert_eq!(
            pyfunc.get("python_version"),
            Some(&Value::Str("3.11.2".into()))
        );
    }

    #[test]
    fn yaml_11_scalars() {
        let v = parse_yaml(
            "v: 0.24.2\nw: 019\na: yes\nb: 1e5\nc: 1.5e+3\nd: .5\ne: 1_000\nf: ~\ng: '1'\nh: 1.\n",
        )
        .unwrap();
        assert_eq!(v.get("a"), Some(&Value::Bool(true)));
        assert_eq!(v.get("b"), Some(&Value::Str("1e5".into())));
        assert_eq!(v.get("c"), Some(&Value::Float(1500.0)));
        assert_eq!(v.get("d"), Some(&Value::Float(0.5)));
        assert_eq!(v.get("e"), Some(&Value::Int(1000)));
        assert_eq!(v.get("f"), Some(&Value::Null));
        assert_eq!(v.get("g"), Some(&Value::Str("1".into())));
        assert_eq!(v.get("h"), Some(&Value::Float(1.0)));
        assert_eq!(v.get("v"), Some(&Value::Str("0.24.2".into())));
        // Not octal (a 9), not decimal (leading 0): PyYAML gives the string.
        assert_eq!(v.get("w"), Some(&Value::Str("019".into())));
    }

    #[test]
    fn declines_what_pyyaml_types_differently() {
        for text in [
            "a: 2026-12-05\n",
            "a: 0x1f\n",
            "a: 012\n",
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "1: a\n",
            "a: 1\n---\nb: 2\n",
            "a: 1:30\n",
            "a: 0b101\n",
        ] {
            assert!(parse_yaml(text).is_err(), "{text}");
        }
    }

    #[test]
    fn byte_order_mark_is_skipped() {
        let v = parse_yaml("\u{feff}a: 1\n").unwrap();
        assert_eq!(v, Value::Map(vec![("a".into(), Value::Int(1))]));
    }

    #[test]
    fn repeated_key_keeps_first_position_last_value() {
        let v = parse_yaml("a: 1\nb: 2\na: 3\n").unwrap();
        assert_eq!(
            v,
            Value::Map(vec![
                ("a".into(), Value::Int(3)),
                ("b".into(), Value::Int(2))
            ])
        );
    }
}
