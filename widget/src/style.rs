//! The widget's stylesheet, injected into its shadow root so the host page's CSS does not
//! reach in and this CSS does not leak out. Host pages theme it with `--hookline-*` custom
//! properties, which do cross the shadow boundary.

pub const STYLE: &str = r#"
:host{all:initial;display:block;box-sizing:border-box;max-width:28rem;
color:var(--hookline-text,#1c1e21);font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
*,*::before,*::after{box-sizing:inherit}
.hl-card{background:var(--hookline-background,#fff);border:1px solid #d5d9de;border-radius:12px;padding:1.25rem}
.hl-name{margin:0 0 .25rem;font-size:1.3rem;line-height:1.25}
.hl-description{margin:0 0 1rem;color:#4a5058}
.hl-field{margin:0 0 .85rem}
.hl-field label{display:block;font-weight:600;margin-bottom:.25rem}
.hl-optional{font-weight:400;color:#5c636b}
input[type=email],input[type=text]{display:block;width:100%;font:inherit;color:inherit;
padding:.55rem .7rem;border:1px solid #8a9199;border-radius:8px;background:#fff}
input:focus-visible,button:focus-visible{outline:3px solid var(--hookline-accent,#1a56db);outline-offset:2px}
input[aria-invalid=true]{border-color:#b3261e}
.hl-consent{display:grid;grid-template-columns:auto 1fr;gap:.2rem .6rem;align-items:start}
.hl-consent input{margin:.25rem 0 0;width:1.15rem;height:1.15rem}
.hl-consent label{font-weight:400;margin:0}
.hl-consent .hl-error{grid-column:1/-1}
.hl-hp{position:absolute;left:-10000px;top:auto;width:1px;height:1px;overflow:hidden}
.hl-error{margin:.3rem 0 0;color:#b3261e;font-size:.92rem}
.hl-error[data-field=form]{margin:0 0 .75rem}
.hl-submit{font:inherit;font-weight:600;color:#fff;background:var(--hookline-accent,#1a56db);border:0;
border-radius:8px;padding:.6rem 1.4rem;cursor:pointer;min-height:44px}
.hl-submit:disabled{opacity:.6;cursor:progress}
.hl-done{margin:0;padding:.85rem 1rem;border-radius:8px;background:#e7f5ec;color:#145c2e;font-weight:600}
.hl-loading,.hl-unavailable{margin:0;color:#4a5058}
"#;
