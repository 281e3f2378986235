//! `.amlignore` / `.gitignore` rules, matched exactly as Azure ML's Python SDK matches them.
//!
//! The SDK (azure-ai-ml `_utils/_asset_utils.py`, `IgnoreFile`) reads only the ignore file in the
//! snapshot root (`.amlignore` wins over `.gitignore`), turns every line into a regular expression
//! with a vendored copy of pathspec's `GitWildMatchPattern` (`_utils/_pathspec.py`), and checks
//! each *file* path, relative to the ignore file's folder, against all of them: the last pattern
//! that matches decides, and a `!` pattern re-includes.
//!
//! That is not quite git's rule set, which is why the translation below is a port of the SDK's and
//! not a gitignore matcher: a pattern that names a folder (`logs/`) matches every path below it,
//! so `*.log` followed by `!logs/` *re-includes* `logs/a.log` (git, and gitignore crates, keep it
//! excluded), and files below an excluded folder can be re-included by a later `!` pattern.

use std::fs;
use std::path::{Component, Path, PathBuf};

use regex::{Regex, RegexSet};

use super::SnapshotError;

/// The ignore file names, in order of precedence.
const IGNORE_FILE_NAMES: [&str; 2] = [".amlignore", ".gitignore"];

/// The rules of the root ignore file of one snapshot.
#[derive(Debug)]
pub(crate) struct IgnoreRules {
    /// The ignore file as found under the root (not resolved), for reports.
    source: PathBuf,
    /// The folder paths are made relative to: the parent of the *resolved* ignore file.
    base: PathBuf,
    rules: Vec<Rule>,
    set: RegexSet,
    /// Index of the last negated (`!`) rule, if any; rules after it can prune whole folders.
    last_negated: Option<usize>,
}

#[derive(Debug)]
struct Rule {
    /// The line after trailing white space is removed (what the user wrote).
    text: String,
    /// 1-based line number in the ignore file.
    line: usize,
    /// `!pattern`: a match re-includes.
    negated: bool,
    /// How the rule covers whole folders, for pruning.
    cover: Cover,
}

/// What a rule says about every path *below* a folder.
#[derive(Debug)]
enum Cover {
    /// Matches every path that has at least one `/` (`**`, `**/`).
    AnyNested,
    /// Matches every path below a folder whose path (or one of its ancestors' paths) matches this
    /// anchored expression: the pattern before its "and anything below" tail.
    Below(Regex),
}

/// The rule that decided a path was excluded.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Verdict<'a> {
    pub(crate) text: &'a str,
    pub(crate) line: usize,
}

impl IgnoreRules {
    /// Finds and parses the ignore file of `root` the way `get_ignore_file` does.
    ///
    /// Returns `None` when `root` is not a folder, has no ignore file, or its ignore file holds no
    /// pattern (the SDK then excludes nothing). `ignore_file` is set to the file found even when
    /// it holds no pattern.
    pub(crate) fn find(
        root: &Path,
        ignore_file: &mut Option<PathBuf>,
    ) -> Result<Option<Self>, SnapshotError> {
        for name in IGNORE_FILE_NAMES {
            let candidate = root.join(name);
            // `Path.resolve()` then `.exists()`: a dangling link does not count.
            let Ok(resolved) = fs::canonicalize(&candidate) else {
                continue;
            };
            *ignore_file = Some(candidate.clone());
            let bytes =
                fs::read(&resolved).map_err(|e| SnapshotError::io("read", &candidate, e))?;
            let base = resolved.parent().unwrap_or(Path::new("/")).to_path_buf();
            return Self::parse(&candidate, base, &bytes);
        }
        Ok(None)
    }

    fn parse(source: &Path, base: PathBuf, bytes: &[u8]) -> Result<Option<Self>, SnapshotError> {
        // The SDK opens the file as text with encoding "utf-8-sig" and universal newlines.
        let text = std::str::from_utf8(bytes).map_err(|e| SnapshotError::InvalidPattern {
            path: source.to_path_buf(),
            line: 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count(),
            pattern: String::new(),
            reason: "the file is not valid UTF-8".into(),
        })?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);

        let mut rules = Vec::new();
        let mut regexes = Vec::new();
        for (index, raw) in universal_lines(text).enumerate() {
            let line = index + 1;
            let written = raw.trim_end_matches(py_is_space);
            let invalid = |reason: String| SnapshotError::InvalidPattern {
                path: source.to_path_buf(),
                line,
                pattern: written.to_string(),
                reason,
            };
            let Some(translated) = translate(written).map_err(invalid)? else {
                continue;
            };
            let full = Regex::new(&translated.regex)
                .map_err(|e| invalid(format!("not a valid pattern ({e})")))?;
            let cover = match translated.head {
                None => Cover::AnyNested,
                Some(head) => Cover::Below(
                    Regex::new(&format!("^{head}$"))
                        .map_err(|e| invalid(format!("not a valid pattern ({e})")))?,
                ),
            };
            regexes.push(full.as_str().to_string());
            rules.push(Rule {
                text: written.to_string(),
                line,
                negated: translated.negated,
                cover,
            });
        }
        if rules.is_empty() {
            return Ok(None);
        }
        let set = RegexSet::new(&regexes).map_err(|e| SnapshotError::InvalidPattern {
            path: source.to_path_buf(),
            line: 0,
            pattern: String::new(),
            reason: format!("the patterns are too large together ({e})"),
        })?;
        let last_negated = rules.iter().rposition(|r| r.negated);
        Ok(Some(Self {
            source: source.to_path_buf(),
            base,
            rules,
            set,
            last_negated,
        }))
    }

    /// The ignore file these rules come from, as found under the snapshot root.
    pub(crate) fn source(&self) -> &Path {
        &self.source
    }

    /// The path the SDK matches for `path`: `os.path.relpath(abspath(path), base)`, posix.
    ///
    /// `path` is made absolute and normalised lexically (as `os.path.abspath` does, without
    /// resolving links). Paths outside the base come out as `../…`, as in the SDK.
    pub(crate) fn match_path(&self, path: &Path) -> String {
        relpath(&lexical_absolute(path), &self.base)
    }

    /// The SDK's `is_file_excluded` on a match path: the last matching rule decides.
    pub(crate) fn excluded(&self, match_path: &str) -> Option<Verdict<'_>> {
        // `normalize_file`: drop one leading "/" or "./" (relpath never yields them, but keep
        // the same input the SDK sees).
        let normalized = match_path
            .strip_prefix('/')
            .or_else(|| match_path.strip_prefix("./"))
            .unwrap_or(match_path);
        // Most paths match no rule: one plain search says so, cheaper than finding every match.
        if !self.set.is_match(normalized) {
            return None;
        }
        let last = self.set.matches(normalized).into_iter().next_back()?;
        let rule = &self.rules[last];
        (!rule.negated).then_some(Verdict {
            text: &rule.text,
            line: rule.line,
        })
    }

    /// A rule that excludes every file below the folder whose match path is `dir`, whatever the
    /// files are called, when no later rule could re-include any of them.
    ///
    /// Used to skip walking such folders; the result is the same file list as walking them (for
    /// file names without a line feed, which Python's `.` does not match).
    pub(crate) fn excludes_everything_below(&self, dir: &str) -> Option<Verdict<'_>> {
        let first_usable = self.last_negated.map_or(0, |i| i + 1);
        let rules = self.rules.get(first_usable..)?;
        // `dir` ends at a segment boundary after each of these prefixes.
        let prefixes: Vec<&str> = dir
            .match_indices('/')
            .map(|(i, _)| &dir[..i])
            .chain(std::iter::once(dir))
            .collect();
        rules.iter().rev().find_map(|rule| {
            let covered = match &rule.cover {
                Cover::AnyNested => true,
                Cover::Below(head) => prefixes.iter().any(|p| head.is_match(p)),
            };
            covered.then_some(Verdict {
                text: &rule.text,
                line: rule.line,
            })
        })
    }
}

/// One translated pattern.
#[derive(Debug, PartialEq)]
struct Translated {
    regex: String,
    negated: bool,
    /// The expression before the "and anything below" tail; `None` for patterns that match every
    /// nested path.
    head: Option<String>,
}

/// Port of `GitWildMatchPattern.pattern_to_regex` (azure-ai-ml 1.35.2 `_utils/_pathspec.py`).
///
/// `Ok(None)` is a null pattern (blank, comment, `/`).
fn translate(line: &str) -> Result<Option<Translated>, String> {
    let pattern = line.trim_matches(py_is_space);
    if pattern.is_empty() || pattern.starts_with('#') || pattern == "/" {
        return Ok(None);
    }
    let (negated, pattern) = match pattern.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, pattern),
    };

    let mut segs: Vec<&str> = pattern.split('/').collect();
    // Collapse runs of "**".
    let mut i = segs.len() - 1;
    while i > 0 {
        if segs[i - 1] == "**" && segs[i] == "**" {
            segs.remove(i);
        }
        i -= 1;
    }
    let override_everything_nested = segs.len() == 2 && segs[0] == "**" && segs[1].is_empty();

    if segs[0].is_empty() {
        segs.remove(0);
    } else if (segs.len() == 1 || (segs.len() == 2 && segs[1].is_empty())) && segs[0] != "**" {
        segs.insert(0, "**");
    }
    if segs.is_empty() {
        return Err("nothing left to match".into());
    }
    let last = segs.len() - 1;
    if segs.len() > 1 && segs[last].is_empty() {
        segs[last] = "**";
    }

    if override_everything_nested {
        return Ok(Some(Translated {
            regex: "^.+(?P<ps_d>/).*$".into(),
            negated,
            head: None,
        }));
    }

    let mut out = String::from("^");
    let mut head = None;
    let mut need_slash = false;
    let end = segs.len() - 1;
    for (i, seg) in segs.iter().enumerate() {
        if *seg == "**" {
            if i == 0 && i == end {
                out.push_str(".+");
            } else if i == 0 {
                out.push_str("(?:.+/)?");
                need_slash = false;
            } else if i == end {
                head = Some(out[1..].to_string());
                out.push_str("(?P<ps_d>/).*");
            } else {
                out.push_str("(?:/.+)?");
                need_slash = true;
            }
        } else {
            if need_slash {
                out.push('/');
            }
            if *seg == "*" {
                out.push_str("[^/]+");
            } else {
                out.push_str(&translate_segment_glob(seg)?);
            }
            if i == end {
                head = Some(out[1..].to_string());
                out.push_str("(?:(?P<ps_d>/).*)?");
            }
            need_slash = true;
        }
    }
    out.push('$');
    Ok(Some(Translated {
        regex: out,
        negated,
        head,
    }))
}

/// Port of `GitWildMatchPattern._translate_segment_glob`, emitting `regex`-crate syntax.
fn translate_segment_glob(pattern: &str) -> Result<String, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let end = chars.len();
    let mut regex = String::new();
    let mut escape = false;
    let mut i = 0;
    while i < end {
        let c = chars[i];
        i += 1;
        if escape {
            escape = false;
            regex.push_str(&regex::escape(c.encode_utf8(&mut [0; 4])));
        } else if c == '\\' {
            escape = true;
        } else if c == '*' {
            regex.push_str("[^/]*");
        } else if c == '?' {
            regex.push_str("[^/]");
        } else if c == '[' {
            let mut j = i;
            if j < end && chars[j] == '!' {
                j += 1;
            }
            if j < end && chars[j] == ']' {
                j += 1;
            }
            while j < end && chars[j] != ']' {
                j += 1;
            }
            if j < end {
                j += 1;
                let mut expr = String::from("[");
                if chars[i] == '!' {
                    expr.push('^');
                    i += 1;
                } else if chars[i] == '^' {
                    expr.push_str("\\^");
                    i += 1;
                }
                // Python's `re` reads the bracket body literally except for `\` (doubled here,
                // as the SDK does), ranges and a leading `]`; the `regex` crate also gives `[`,
                // `&&` and `~~` meanings inside classes, so those are escaped.
                for &b in &chars[i..j] {
                    match b {
                        '\\' => expr.push_str("\\\\"),
                        '[' | '&' | '~' => {
                            expr.push('\\');
                            expr.push(b);
                        }
                        _ => expr.push(b),
                    }
                }
                regex.push_str(&expr);
                i = j;
            } else {
                regex.push_str("\\[");
            }
        } else {
            regex.push_str(&regex::escape(c.encode_utf8(&mut [0; 4])));
        }
    }
    if escape {
        return Err("a trailing `\\` escapes nothing".into());
    }
    Ok(regex)
}

/// Python's `str.isspace` (what `str.strip()` removes): Unicode white space plus the
/// information separators U+001C..U+001F.
fn py_is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Lines as Python's text mode splits them (universal newlines: `\n`, `\r\n`, `\r`).
fn universal_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let cut = rest.find(['\n', '\r']).unwrap_or(rest.len());
        let line = &rest[..cut];
        let sep = if rest[cut..].starts_with("\r\n") {
            2
        } else {
            usize::from(cut < rest.len())
        };
        rest = &rest[cut + sep..];
        Some(line)
    })
}

/// `os.path.abspath`: join the current directory, then drop `.` and apply `..` lexically.
pub(crate) fn lexical_absolute(path: &Path) -> PathBuf {
    let joined;
    let path = if path.is_absolute() {
        path
    } else {
        joined = std::env::current_dir()
            .unwrap_or_else(|_| PathBuf::from("/"))
            .join(path);
        &joined
    };
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                // `..` at the root stays at the root.
                if out.parent().is_some() {
                    out.pop();
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// `os.path.relpath(path, base)` for two absolute, normalised paths, with `/` separators.
pub(crate) fn relpath(path: &Path, base: &Path) -> String {
    let path: Vec<_> = path.components().collect();
    let base: Vec<_> = base.components().collect();
    let common = path.iter().zip(&base).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); base.len() - common];
    parts.extend(
        path[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(p: &str) -> String {
        translate(p).unwrap().unwrap().regex
    }

    /// Expected strings printed by the SDK's `GitWildMatchPattern.pattern_to_regex`.
    #[test]
    fn translation_matches_the_sdk() {
        assert_eq!(re("*.log"), r"^(?:.+/)?[^/]*\.log(?:(?P<ps_d>/).*)?$");
        assert_eq!(re("build/"), r"^(?:.+/)?build(?P<ps_d>/).*$");
        assert_eq!(re("foo/**"), r"^foo(?P<ps_d>/).*$");
        assert_eq!(re("!/"), r"^(?:(?P<ps_d>/).*)?$");
        assert_eq!(re("a//b"), r"^a//b(?:(?P<ps_d>/).*)?$");
        assert_eq!(re("/root.txt"), r"^root\.txt(?:(?P<ps_d>/).*)?$");
        assert_eq!(re("a/**/b"), r"^a(?:/.+)?/b(?:(?P<ps_d>/).*)?$");
        assert_eq!(re("**"), r"^.+$");
        assert_eq!(re("**/"), r"^.+(?P<ps_d>/).*$");
        assert_eq!(re("docs/*"), r"^docs/[^/]+(?:(?P<ps_d>/).*)?$");
        assert_eq!(re("[!a]?.q"), r"^(?:.+/)?[^a][^/]\.q(?:(?P<ps_d>/).*)?$");
        assert!(translate("# comment").unwrap().is_none());
        assert!(translate("   ").unwrap().is_none());
        assert!(translate("/").unwrap().is_none());
        assert!(translate("!").is_err());
        assert!(translate("a\\").is_err());
        assert!(translate("!keep.txt").unwrap().unwrap().negated);
    }

    #[test]
    fn universal_newlines() {
        let lines: Vec<_> = universal_lines("a\r\nb\rc\n\nd").collect();
        assert_eq!(lines, ["a", "b", "c", "", "d"]);
    }

    #[test]
    fn relpath_like_python() {
        let p = |s: &str| PathBuf::from(s);
        assert_eq!(relpath(&p("/a/b/c.txt"), &p("/a")), "b/c.txt");
        assert_eq!(relpath(&p("/a"), &p("/a")), ".");
        assert_eq!(relpath(&p("/x/y/f"), &p("/a/b")), "../../x/y/f");
        assert_eq!(lexical_absolute(&p("/a/./b/../c")), p("/a/c"));
        assert_eq!(lexical_absolute(&p("/../a")), p("/a"));
    }

    #[test]
    fn last_match_wins_and_folder_negation_reincludes() {
        let rules = IgnoreRules::parse(
            Path::new(".amlignore"),
            PathBuf::from("/r"),
            b"*.log\n!logs/\nbuild\n",
        )
        .unwrap()
        .unwrap();
        assert!(rules.excluded("a.log").is_some());
        assert!(rules.excluded("logs/a.log").is_none());
        assert_eq!(rules.excluded("x/build/y").unwrap().line, 3);
        assert!(rules.excludes_everything_below("x/build").is_some());
        assert!(rules.excludes_everything_below("x/builder").is_none());
    }
}
