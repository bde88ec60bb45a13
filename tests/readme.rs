//! The README's examples, run: every `$ dydx …` line in a code block, with its output
//! compared to the lines shown below it, so the README cannot drift from what dydx
//! prints. A line `...` stands for any number of lines; `...` inside a line stands for
//! any text there.

use std::process::Command;

/// One example: the command line's arguments after `dydx`, and the lines shown.
struct Example {
    line: usize,
    args: Vec<String>,
    shown: Vec<String>,
}

/// Splits a command line the way the README writes them: words separated by spaces,
/// single quotes around a word that holds spaces or shell characters.
fn shell_words(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut started = false;
    for c in command.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                started = true;
            }
            ' ' if !quoted => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            _ => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        words.push(word);
    }
    words
}

fn examples() -> Vec<Example> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md");
    let lines: Vec<&str> = readme.lines().collect();
    let mut found = Vec::new();
    let mut in_block = false;
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if l.starts_with("```") {
            in_block = !in_block;
            i += 1;
            continue;
        }
        let Some(command) = l.strip_prefix("$ dydx ").filter(|_| in_block) else {
            i += 1;
            continue;
        };
        let mut shown = Vec::new();
        let mut j = i + 1;
        while j < lines.len() && !lines[j].starts_with("$ ") && !lines[j].starts_with("```") {
            shown.push(lines[j].to_string());
            j += 1;
        }
        found.push(Example {
            line: i + 1,
            args: shell_words(command),
            shown,
        });
        i = j;
    }
    found
}

/// Whether `actual` is `shown`, with `...` inside a line standing for any text.
fn line_matches(shown: &str, actual: &str) -> bool {
    let (shown, actual) = (shown.trim_end(), actual.trim_end());
    let parts: Vec<&str> = shown.split("...").collect();
    if parts.len() == 1 {
        return shown == actual;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !actual.starts_with(first) || !actual.ends_with(last) || actual.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &actual[first.len()..actual.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(k) => rest = &rest[k + part.len()..],
            None => return false,
        }
    }
    true
}

/// Whether the lines `actual` are the lines `shown`, a line `...` standing for any
/// number of lines.
fn lines_match(shown: &[String], actual: &[&str]) -> bool {
    match shown.split_first() {
        None => actual.iter().all(|l| l.trim().is_empty()),
        Some((first, rest)) if first.trim() == "..." => (0..=actual.len()).any(|k| lines_match(rest, &actual[k..])),
        Some((first, rest)) => {
            actual
                .split_first()
                .is_some_and(|(a, more)| line_matches(first, a) && lines_match(rest, more))
                || (first.trim().is_empty() && lines_match(rest, actual))
        }
    }
}

#[test]
fn the_readme_shows_what_dydx_prints() {
    let examples = examples();
    assert!(examples.len() >= 10, "found only {} examples", examples.len());
    for ex in &examples {
        let out = Command::new(env!("CARGO_BIN_EXE_dydx"))
            .args(&ex.args)
            .output()
            .expect("dydx runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let actual: Vec<&str> = text.lines().collect();
        assert!(
            lines_match(&ex.shown, &actual),
            "README.md line {}: `dydx {}` shows\n{}\nbut prints\n{}",
            ex.line,
            ex.args.join(" "),
            ex.shown.join("\n"),
            text
        );
    }
}

#[test]
fn the_matcher_can_fail() {
    let shown = |s: &[&str]| s.iter().map(|l| l.to_string()).collect::<Vec<_>>();
    assert!(lines_match(&shown(&["a", "...", "d"]), &["a", "b", "c", "d"]));
    assert!(!lines_match(&shown(&["a", "...", "d"]), &["a", "b", "c"]));
    assert!(line_matches("return ...;", "return x*y;"));
    assert!(!line_matches("return ...;", "return x*y"));
    assert!(!lines_match(&shown(&["a"]), &["b"]));
    assert_eq!(
        shell_words("diff 'x^2 + 1' --at x=2"),
        ["diff", "x^2 + 1", "--at", "x=2"]
    );
}
