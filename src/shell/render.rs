//! The templates: a handlebars set per language, built into the binary and overridable
//! file by file from `desk.templates_dir`. Text and HTML are separate registries because
//! their escaping differs: HTML escapes every value, text escapes nothing (an `&` in a
//! meeting title must reach a plain-text reader as `&`, not `&amp;`). Both run in strict
//! mode, so a misspelt variable is an error at start-up, not a blank in a mail.

use crate::core::rules::{Language, Rules};
use crate::core::workflow::MailKind;
use handlebars::Handlebars;
use serde_json::Value;
use std::path::Path;
use thiserror::Error;

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/templates.rs"));
}

#[derive(Debug, Error)]
pub enum RenderError {
    #[error("template {name}: {message} (fix the file, or remove the override to use the built-in one)")]
    Template { name: String, message: String },
    #[error("template {name} is missing: add {name}.hbs to the template set")]
    Missing { name: String },
    #[error("template {name}.txt must start with a line `Subject: ...`")]
    NoSubject { name: String },
    #[error("cannot read the templates folder {path}: {source}")]
    Io { path: String, source: std::io::Error },
}

/// A mail's words: subject, plain text and HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Words {
    pub subject: String,
    pub text: String,
    pub html: String,
}

pub struct Templates {
    text: Handlebars<'static>,
    html: Handlebars<'static>,
}

impl Templates {
    /// The built-in set of `lang`, with the files in `dir/<lang>/` laid over it.
    pub fn load(lang: Language, dir: Option<&Path>) -> Result<Templates, RenderError> {
        let mut sources: Vec<(String, String)> = builtin::BUILTIN
            .iter()
            .filter_map(|(path, body)| {
                let rest = path.strip_prefix(lang.code())?.strip_prefix('/')?;
                Some((name_of(rest)?, (*body).to_string()))
            })
            .collect();
        if let Some(dir) = dir {
            let lang_dir = dir.join(lang.code());
            let io = |source| RenderError::Io { path: lang_dir.display().to_string(), source };
            for e in std::fs::read_dir(&lang_dir).map_err(io)? {
                let p = e.map_err(io)?.path();
                let Some(name) = p.file_name().and_then(|f| f.to_str()).and_then(name_of) else { continue };
                let body = std::fs::read_to_string(&p).map_err(io)?;
                sources.retain(|(n, _)| *n != name);
                sources.push((name, body));
            }
        }
        let mut text = Handlebars::new();
        text.set_strict_mode(true);
        text.register_escape_fn(handlebars::no_escape);
        let mut html = Handlebars::new();
        html.set_strict_mode(true);
        html.register_escape_fn(handlebars::html_escape);
        for (name, body) in sources {
            let err =
                |e: handlebars::TemplateError| RenderError::Template { name: name.clone(), message: e.to_string() };
            // Partials (names starting with `_`) are shared by both registries.
            if name.ends_with(".html") || name.starts_with('_') {
                html.register_template_string(&name, &body).map_err(err)?;
            }
            if !name.ends_with(".html") || name.starts_with('_') {
                text.register_template_string(&name, &body).map_err(err)?;
            }
        }
        Ok(Templates { text, html })
    }

    pub fn render(&self, kind: MailKind, ctx: &Value) -> Result<Words, RenderError> {
        let name = kind.name();
        let run = |reg: &Handlebars<'static>, full: String| -> Result<String, RenderError> {
            if !reg.has_template(&full) {
                return Err(RenderError::Missing { name: full });
            }
            reg.render(&full, ctx).map_err(|e| RenderError::Template { name: full.clone(), message: e.to_string() })
        };
        let text = run(&self.text, format!("{name}.txt"))?;
        let html = run(&self.html, format!("{name}.html"))?;
        let (first, body) = text.split_once('\n').unwrap_or((&text, ""));
        let subject = first
            .strip_prefix("Subject:")
            .ok_or_else(|| RenderError::NoSubject { name: name.to_string() })?
            .trim()
            .to_string();
        Ok(Words { subject, text: body.trim_start_matches(['\r', '\n']).to_string(), html })
    }

    /// Renders every mail of the set with sample data, so a broken template stops
    /// start-up (and `loket check-config`) instead of a mail.
    pub fn check(&self, rules: &Rules) -> Result<(), RenderError> {
        for sample in crate::shell::samples::all(rules) {
            self.render(
                sample.mail.kind,
                &crate::core::present::context(&sample.mail, rules, sample.credentials.as_ref()),
            )?;
        }
        Ok(())
    }
}

/// "ack.txt.hbs" → "ack.txt"; anything else is not a template.
fn name_of(file: &str) -> Option<String> {
    let stem = file.strip_suffix(".hbs")?;
    (!stem.contains('/')).then(|| stem.to_string())
}
