//! Output as shown in failure messages: the last lines, runs of one
//! repeated line folded.

/// Lines of output shown in a failure message, from the end.
const SHOWN_LINES: usize = 40;

/// The last lines of an output, runs of one repeated line folded, with a
/// note when some were cut.
pub fn tail(text: &str) -> String {
    let lines = fold_repeats(text);
    let start = lines.len().saturating_sub(SHOWN_LINES);
    let cut = if start > 0 {
        format!("[{start} earlier lines cut]\n")
    } else {
        String::new()
    };
    let shown: String = lines[start..].iter().map(|l| format!("{l}\n")).collect();
    cut + &shown
}

/// `line` followed by `[the line above, N more times]` for a run of equal lines.
fn fold_repeats(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut repeats = 0;
    let mut last: Option<&str> = None;
    for line in text.lines() {
        if last == Some(line) {
            repeats += 1;
            continue;
        }
        if repeats > 0 {
            out.push(format!("[the line above, {repeats} more times]"));
        }
        repeats = 0;
        out.push(line.to_owned());
        last = Some(line);
    }
    if repeats > 0 {
        out.push(format!("[the line above, {repeats} more times]"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_lines_are_folded_and_long_output_cut() {
        assert_eq!(
            tail("a\nb\nb\nb\nc\n"),
            "a\nb\n[the line above, 2 more times]\nc\n"
        );
        let long: String = (0..100).map(|i| format!("{i}\n")).collect();
        let shown = tail(&long);
        assert!(shown.starts_with("[60 earlier lines cut]\n60\n") && shown.ends_with("99\n"));
    }
}
