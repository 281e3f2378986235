//! Filling a step's command template: `${{inputs.x}}`, `${{outputs.y}}` and Azure ML's optional
//! `$[[ … ]]` blocks (dropped when any placeholder inside has no value).

use std::collections::BTreeMap;

/// Values for a command's placeholders: `inputs.NAME` / `outputs.NAME` → value (`None` = the
/// port exists but has no value, so an optional block that uses it is dropped).
pub(crate) type Values = BTreeMap<String, Option<String>>;

/// Fills `template`. Values are shell-quoted when they need it.
pub(crate) fn render(template: &str, values: &Values) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(start) = rest.find("$[[") {
        out.push_str(&fill(&rest[..start], values, false)?.unwrap_or_default());
        let after = &rest[start + 3..];
        let Some(end) = after.find("]]") else {
            return Err("an optional block `$[[` has no closing `]]`".to_owned());
        };
        if let Some(block) = fill(&after[..end], values, true)? {
            out.push_str(&block);
        }
        rest = &after[end + 2..];
    }
    out.push_str(&fill(rest, values, false)?.unwrap_or_default());
    Ok(out)
}

/// Fills the placeholders of one segment. In an optional block, a placeholder without a value
/// drops the whole block (`Ok(None)`).
fn fill(segment: &str, values: &Values, optional: bool) -> Result<Option<String>, String> {
    let mut out = String::with_capacity(segment.len());
    let mut rest = segment;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 3..];
        let Some(end) = after.find("}}") else {
            return Err(format!(
                "a placeholder `${{{{` has no closing `}}}}` in `{segment}`"
            ));
        };
        let key = after[..end].trim();
        match values.get(key) {
            Some(Some(v)) => out.push_str(&quote(v)),
            Some(None) if optional => return Ok(None),
            Some(None) => {
                return Err(format!(
                    "`${{{{{key}}}}}` has no value; put it in an optional block `$[[ … ]]`"
                ));
            }
            None => {
                let known = values
                    .keys()
                    .map(|k| format!("`${{{{{k}}}}}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(format!(
                    "the command uses `${{{{{key}}}}}`, which the step does not have; it has {}",
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known
                    }
                ));
            }
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(Some(out))
}

fn quote(v: &str) -> String {
    match shlex::try_quote(v) {
        Ok(q) => q.into_owned(),
        // A NUL byte cannot be passed to a process anyway; keep the value as it is.
        Err(_) => v.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, Option<&str>)]) -> Values {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.map(str::to_owned)))
            .collect()
    }

    #[test]
    fn fills_inputs_and_outputs() {
        let v = values(&[("inputs.a", Some("/x/a")), ("outputs.b", Some("/y b"))]);
        assert_eq!(
            render("python t.py --a ${{inputs.a}} --b ${{ outputs.b }}", &v).unwrap(),
            "python t.py --a /x/a --b '/y b'"
        );
    }

    #[test]
    fn optional_blocks_drop_when_a_value_is_missing() {
        let v = values(&[("inputs.a", Some("1")), ("inputs.b", None)]);
        assert_eq!(
            render("run $[[--a ${{inputs.a}}]] $[[--b ${{inputs.b}}]]", &v).unwrap(),
            "run --a 1 "
        );
    }

    #[test]
    fn unknown_placeholders_are_named() {
        let v = values(&[("inputs.a", Some("1"))]);
        let e = render("run ${{inputs.nope}}", &v).unwrap_err();
        assert!(e.contains("`${{inputs.nope}}`"), "{e}");
        assert!(e.contains("`${{inputs.a}}`"), "{e}");
        assert!(render("run ${{inputs.a", &v).is_err());
        assert!(render("run $[[x", &v).is_err());
    }
}
