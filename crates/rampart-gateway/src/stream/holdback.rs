//! The hold-back window: incremental scanning of streamed text.
//!
//! A model's answer arrives a few characters at a time. Releasing each piece at once would let a secret
//! split across two chunks through before either half looks like a secret. [`HoldBack`] keeps the last
//! `window` bytes (at least the longest match any scanner can make) unreleased, and scans the held text plus
//! up to `window` bytes of already released text as left context. A match that starts before the release
//! point is therefore always seen whole, and is redacted (or blocks the stream) before any of it leaves.
//!
//! Work is bounded: the window is scanned again only after `step` new bytes, so every byte is scanned
//! about `1 + 2 * window / step` times, and the client sees text at most `window + step` bytes late.
//!
//! Restoring placeholders needs care too: the release point never falls inside something that may be a
//! placeholder (`<EMAIL_ADD` | `RESS_1>`), so each released piece can be restored on its own.

use rampart_core::{Action, Finding, Span};
use rampart_detect::Report;

/// Where a text position is, counted from the start of the stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Position {
    /// Bytes.
    pub bytes: u64,
    /// Unicode scalar values.
    pub chars: u64,
    /// Completed lines (0-based line number).
    pub line: u64,
    /// Characters since the last line break (0-based column).
    pub column: u64,
}

impl Position {
    /// The position after `text`.
    pub fn advance(mut self, text: &str) -> Position {
        self.bytes += text.len() as u64;
        match text.rfind('\n') {
            Some(i) => {
                self.line += text.bytes().filter(|&b| b == b'\n').count() as u64;
                self.column = text[i + 1..].chars().count() as u64;
            }
            None => self.column += text.chars().count() as u64,
        }
        self.chars += text.chars().count() as u64;
        self
    }
}

/// A finding in released text.
#[derive(Clone, Debug)]
pub struct Released {
    /// The finding, its span relative to the released piece (clipped to it).
    pub finding: Finding,
    /// The policy's action for it.
    pub action: Action,
    /// Where the finding starts in the whole stream.
    pub at: Position,
    /// Where it ends in the whole stream.
    pub end: Position,
    /// The matched text, masked where it is sensitive (safe to log and return).
    pub excerpt: String,
}

/// What one step of the window produced.
#[derive(Debug, Default)]
pub struct Step {
    /// Raw text now safe to release (before redaction and restoring).
    pub text: String,
    /// Findings in `text`, with spans relative to it.
    pub findings: Vec<Released>,
    /// Findings that block the stream; when not empty, `text` is empty and nothing more may be released.
    pub blocked: Vec<Released>,
}

/// Streaming text buffer with a scan-before-release window. See the module docs.
#[derive(Debug)]
pub struct HoldBack {
    window: usize,
    step: usize,
    placeholder_max: usize,
    /// Tail of released text, kept as left context for the next scan.
    context: String,
    /// Position of `context`'s first byte in the stream.
    context_at: Position,
    /// Text received and not released.
    pending: String,
    /// `pending.len()` when it was last scanned.
    scanned: usize,
}

impl HoldBack {
    /// A window of `window` bytes, rescanned every `step` new bytes; `placeholder_max` is the longest
    /// placeholder a restore may have to recognise (0 when nothing will be restored).
    pub fn new(window: usize, step: usize, placeholder_max: usize) -> HoldBack {
        HoldBack {
            window: window.max(1),
            step: step.max(1),
            placeholder_max,
            context: String::new(),
            context_at: Position::default(),
            pending: String::new(),
            scanned: 0,
        }
    }

    /// Bytes received and not yet released.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Adds streamed text; releases what the window allows. `scan` runs the pipeline (`None`: nothing to
    /// act on, as under fail-open); an `Err` from it is returned as is.
    pub fn push<E>(
        &mut self,
        chunk: &str,
        scan: &mut dyn FnMut(&str) -> Result<Option<Report>, E>,
    ) -> Result<Step, E> {
        self.pending.push_str(chunk);
        if self.pending.len() < self.scanned + self.step || self.pending.len() <= self.window {
            return Ok(Step::default());
        }
        self.release(false, scan)
    }

    /// Ends the stream: scans and releases everything held.
    pub fn finish<E>(
        &mut self,
        scan: &mut dyn FnMut(&str) -> Result<Option<Report>, E>,
    ) -> Result<Step, E> {
        if self.pending.is_empty() {
            return Ok(Step::default());
        }
        self.release(true, scan)
    }

    fn release<E>(
        &mut self,
        last: bool,
        scan: &mut dyn FnMut(&str) -> Result<Option<Report>, E>,
    ) -> Result<Step, E> {
        let ctx = self.context.len();
        let mut text = String::with_capacity(ctx + self.pending.len());
        text.push_str(&self.context);
        text.push_str(&self.pending);
        let report = scan(&text)?;
        self.scanned = self.pending.len();
        // Findings wholly inside the context were dealt with when they were released.
        let touching: Vec<(&Finding, Action)> = report
            .as_ref()
            .map(|r| {
                r.verdict
                    .findings
                    .iter()
                    .zip(r.actions.iter().copied())
                    .filter(|(f, _)| f.span.end > ctx)
                    .collect()
            })
            .unwrap_or_default();
        let blocked: Vec<Released> = touching
            .iter()
            .filter(|(_, a)| *a == Action::Block)
            .map(|(f, a)| self.locate(&text, f, *a, 0))
            .collect();
        if !blocked.is_empty() {
            return Ok(Step {
                blocked,
                ..Step::default()
            });
        }
        let cut = if last {
            self.pending.len()
        } else {
            self.release_point(&touching, ctx)
        };
        let findings = touching
            .iter()
            .filter(|(f, _)| f.span.start < ctx + cut)
            .map(|(f, a)| self.locate(&text, f, *a, ctx))
            .collect();
        let released: String = self.pending.drain(..cut).collect();
        self.scanned = self.pending.len();
        self.context.push_str(&released);
        if self.context.len() > self.window {
            let drop = ceil_boundary(&self.context, self.context.len() - self.window);
            self.context_at = self.context_at.advance(&self.context[..drop]);
            self.context.drain(..drop);
        }
        Ok(Step {
            text: released,
            findings,
            blocked: Vec::new(),
        })
    }

    /// How many pending bytes can be released: all but the window, moved forward over matches that start
    /// before it (they are complete), and back before anything that may be an unfinished placeholder.
    fn release_point(&self, touching: &[(&Finding, Action)], ctx: usize) -> usize {
        let pending = &self.pending;
        let rel = |s: Span| (s.start.saturating_sub(ctx), s.end - ctx);
        let mut cut = floor_boundary(pending, pending.len().saturating_sub(self.window));
        for (f, _) in touching {
            let (start, end) = rel(f.span);
            if start < cut {
                cut = cut.max(end.min(pending.len()));
            }
        }
        // Moving back only: each pass either leaves `cut` unchanged or lowers it, so this ends.
        loop {
            let mut next = cut;
            if self.placeholder_max > 0 {
                let from = floor_boundary(pending, cut.saturating_sub(self.placeholder_max));
                if let Some(lt) = pending[from..cut].rfind('<')
                    && !pending[from + lt..cut].contains('>')
                {
                    next = from + lt;
                }
            }
            for (f, _) in touching {
                let (start, end) = rel(f.span);
                if start < next && next < end {
                    next = start;
                }
            }
            if next == cut {
                return cut;
            }
            cut = next;
        }
    }

    /// A finding of the scanned text (`context` + `pending`), clipped to start at `from` and made relative
    /// to it, with its stream positions.
    fn locate(&self, text: &str, f: &Finding, action: Action, from: usize) -> Released {
        let start = f.span.start.max(from);
        let end = f.span.end.max(start);
        let at = self.context_at.advance(&text[..start]);
        let end_at = at.advance(&text[start..end]);
        let mut finding = f.clone();
        finding.span = Span::new(start - from, end - from);
        Released {
            excerpt: f.excerpt(text),
            finding,
            action,
            at,
            end: end_at,
        }
    }
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_core::Direction;
    use rampart_detect::Pipeline;

    fn run(
        p: &Pipeline,
        chunks: &[&str],
        window: usize,
        step: usize,
    ) -> (String, Vec<Released>, bool) {
        let mut hb = HoldBack::new(window, step, 24);
        let mut scan =
            |t: &str| -> Result<Option<Report>, ()> { Ok(Some(p.assess(t, Direction::Output))) };
        let mut out = String::new();
        let mut found = Vec::new();
        for c in chunks {
            let s = hb.push(c, &mut scan).unwrap();
            if !s.blocked.is_empty() {
                return (out, s.blocked, true);
            }
            out.push_str(&s.text);
            found.extend(s.findings);
        }
        let s = hb.finish(&mut scan).unwrap();
        if !s.blocked.is_empty() {
            return (out, s.blocked, true);
        }
        out.push_str(&s.text);
        found.extend(s.findings);
        (out, found, false)
    }

    fn split_every(text: &str, n: usize) -> Vec<&str> {
        let mut out = Vec::new();
        let mut start = 0;
        while start < text.len() {
            let mut end = (start + n).min(text.len());
            while !text.is_char_boundary(end) {
                end += 1;
            }
            out.push(&text[start..end]);
            start = end;
        }
        out
    }

    #[test]
    fn split_secret_blocks_before_any_of_it_is_released() {
        let p = Pipeline::with_default_policy().unwrap();
        let secret = "ghp_q8R12mtucIeYQh6fnS5Gv99pXS2DqW3jTPlR";
        let text = format!(
            "{} Here it is: {secret} and more text after it.",
            "The quarterly report covers revenue, costs and hiring plans for the next year."
        );
        for n in [1, 3, 7, 16, 64] {
            let (released, blocked, was_blocked) = run(&p, &split_every(&text, n), 64, 16);
            assert!(was_blocked, "chunk size {n}");
            assert!(
                !released.contains(&secret[..12]),
                "chunk size {n}: {released}"
            );
            assert!(
                blocked
                    .iter()
                    .any(|r| r.finding.category == rampart_core::Category::Secret)
            );
        }
    }

    #[test]
    fn streamed_findings_match_whole_text_findings() {
        let p = Pipeline::with_default_policy().unwrap();
        let text = "Contact jane.doe@example.com or call +44 20 7946 0958 today. Card 4111 1111 1111 1111. ".repeat(3);
        let whole: Vec<(usize, usize, String)> = p
            .assess(&text, Direction::Output)
            .verdict
            .findings
            .iter()
            .map(|f| (f.span.start, f.span.end, f.rule.to_string()))
            .collect();
        assert!(!whole.is_empty());
        for n in [1, 2, 5, 13, 40, 1000] {
            let (released, found, blocked) = run(&p, &split_every(&text, n), 96, 24);
            assert!(!blocked);
            assert_eq!(released, text);
            let got: Vec<(usize, usize, String)> = found
                .iter()
                .map(|r| {
                    (
                        r.at.bytes as usize,
                        r.end.bytes as usize,
                        r.finding.rule.to_string(),
                    )
                })
                .collect();
            assert_eq!(got, whole, "chunk size {n}");
        }
    }

    #[test]
    fn release_point_avoids_partial_placeholders() {
        let mut hb = HoldBack::new(4, 1, 24);
        let mut scan = |_: &str| -> Result<Option<Report>, ()> { Ok(None) };
        let mut released = Vec::new();
        for c in ["Dear <EMAIL", "_ADDRESS_1>, hello", " there"] {
            released.push(hb.push(c, &mut scan).unwrap().text);
        }
        released.push(hb.finish(&mut scan).unwrap().text);
        assert_eq!(released.concat(), "Dear <EMAIL_ADDRESS_1>, hello there");
        for piece in &released {
            assert_eq!(
                piece.matches('<').count(),
                piece.matches('>').count(),
                "{released:?}"
            );
        }
    }

    #[test]
    fn positions_count_lines() {
        let p = Position::default().advance("ab\ncdé").advance("f");
        assert_eq!(
            p,
            Position {
                bytes: 8,
                chars: 7,
                line: 1,
                column: 4
            }
        );
    }
}
