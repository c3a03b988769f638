//! The widget's stylesheet, injected into its shadow root so the host page's CSS does not
//! reach in and this CSS does not leak out. Host pages theme it with `--hookline-*` custom
//! properties, which do cross the shadow boundary: `--hookline-accent`, `--hookline-text`,
//! `--hookline-background`, `--hookline-max-width`.
//!
//! Everything is set on `.hl-root` (inside the shadow root) rather than on `:host`: a page's
//! own rules beat `:host` rules on the host element (`* { all: unset }` would otherwise
//! reset the widget's font and colours). Lengths are in `px`, not `rem`, so a page's root font
//! size does not resize the widget.

pub const STYLE: &str = r#"
:host{all:initial;display:block}
.hl-root{all:initial;display:block;box-sizing:border-box;max-width:var(--hookline-max-width,448px);text-align:left;
color:var(--hookline-text,#1c1e21);font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
*,*::before,*::after{box-sizing:border-box}
.hl-card,.hl-toast{background:var(--hookline-background,#fff);border:1px solid #d5d9de;border-radius:12px;padding:20px}
.hl-image{display:block;width:100%;height:auto;border-radius:8px;margin:0 0 12px}
.hl-name{margin:0 0 4px;font-size:21px;line-height:1.25}
.hl-description{margin:0 0 16px;color:#4a5058}
.hl-ends,.hl-who,.hl-hint,.hl-required,.hl-state,.hl-label,.hl-toast-time{color:#5c636b;font-size:14px}
.hl-ends,.hl-who{margin:0 0 12px}
.hl-field{margin:0 0 14px}
.hl-field label{display:block;font-weight:600;margin-bottom:4px}
.hl-optional{font-weight:400;color:#5c636b}
input[type=email],input[type=text],input[type=url],input[type=file],select{display:block;width:100%;font:inherit;color:inherit;
padding:9px 11px;border:1px solid #8a9199;border-radius:8px;background:#fff}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,[tabindex]:focus-visible{outline:3px solid var(--hookline-accent,#1a56db);outline-offset:2px}
[aria-invalid=true]{border-color:#b3261e}
.hl-consent{display:grid;grid-template-columns:auto 1fr;gap:3px 10px;align-items:start}
.hl-consent input{margin:4px 0 0;width:18px;height:18px}
.hl-consent label{font-weight:400;margin:0}
.hl-consent .hl-error{grid-column:1/-1}
.hl-hp{position:absolute;left:-10000px;top:auto;width:1px;height:1px;overflow:hidden}
.hl-error{margin:5px 0 0;color:#b3261e;font-size:15px}
.hl-error[data-field=form]{margin:0 0 12px}
.hl-submit,.hl-secondary{display:inline-block;font:inherit;font-weight:600;border-radius:8px;padding:10px 22px;
cursor:pointer;min-height:44px;text-decoration:none;text-align:center}
.hl-submit{color:#fff;background:var(--hookline-accent,#1a56db);border:0}
.hl-secondary{color:var(--hookline-accent,#1a56db);background:#fff;border:1px solid currentColor}
.hl-submit:disabled{opacity:.6;cursor:progress}
.hl-link{background:none;border:0;padding:0;font:inherit;color:var(--hookline-accent,#1a56db);text-decoration:underline;cursor:pointer}
.hl-done,.hl-unlocked{margin:0 0 12px;padding:12px 14px;border-radius:8px;background:#e7f5ec;color:#145c2e}
.hl-pending,.hl-loading,.hl-unavailable{margin:0 0 12px;color:#4a5058}
.hl-notice{margin:12px 0 0;color:#5c3b00}
.hl-notice:empty{margin:0}
.hl-reward{margin:0 0 16px;padding:14px;border:1px solid #d5d9de;border-radius:10px}
.hl-reward-title{margin:0;font-weight:700}
.hl-reward-description,.hl-progress-text{margin:4px 0 8px}
.hl-progress{display:block;width:100%;height:10px;accent-color:var(--hookline-accent,#1a56db)}
.hl-code{margin:4px 0 10px;padding:10px;border:2px dashed #8a9199;border-radius:8px;font:700 20px/1.2 ui-monospace,Menlo,Consolas,monospace;
letter-spacing:.06em;text-align:center;word-break:break-all;user-select:all}
.hl-label,.hl-toast-text{margin:0}
.hl-methods-title{margin:16px 0 8px;font-size:16px}
.hl-methods{list-style:none;margin:0;padding:0;display:grid;gap:8px}
.hl-method{border:1px solid #d5d9de;border-radius:10px}
.hl-action{display:flex;flex-wrap:wrap;align-items:center;gap:6px 10px;width:100%;min-height:44px;padding:10px 12px;
font:inherit;color:inherit;background:none;border:0;border-radius:10px;text-align:left;cursor:pointer;text-decoration:none}
.hl-action:disabled{cursor:not-allowed;color:#5c636b}
.hl-action-text{flex:1 1 12em;overflow-wrap:anywhere}
.hl-worth{font-weight:700;font-size:14px;color:#fff;background:var(--hookline-accent,#1a56db);padding:1px 9px;border-radius:999px}
.hl-is-done{cursor:default}
.hl-is-done .hl-worth{background:#145c2e}
.hl-state{display:block;padding:0 12px 10px}
.hl-method[data-state^=done] .hl-state{color:#145c2e}
.hl-panel{display:block;margin:0;padding:0 12px 12px}
.hl-backdrop{position:fixed;inset:0;z-index:2147483000;display:flex;align-items:center;justify-content:center;
padding:16px;background:rgba(16,18,20,.55)}
.hl-dialog{position:relative;width:100%;max-width:var(--hookline-max-width,448px);max-height:calc(100vh - 32px);overflow:auto;border-radius:12px}
.hl-bar{position:fixed;left:0;right:0;bottom:0;z-index:2147483000;max-height:70vh;overflow:auto;box-shadow:0 -4px 18px rgba(0,0,0,.18)}
.hl-bar .hl-card{border-radius:0;border-width:1px 0 0}
.hl-close,.hl-toast-close{position:absolute;top:6px;right:6px;width:40px;height:40px;font:26px/1 system-ui,sans-serif;color:#4a5058;
background:none;border:0;border-radius:8px;cursor:pointer}
.hl-dialog .hl-name,.hl-bar .hl-name{padding-right:40px}
.hl-toasts{position:fixed;z-index:2147483001;width:340px;max-width:calc(100vw - 32px);pointer-events:none}
.hl-bottom{bottom:16px}.hl-top{top:16px}.hl-left{left:16px}.hl-right{right:16px}
.hl-toast{pointer-events:auto;position:relative;display:flex;gap:12px;align-items:center;padding:12px 46px 12px 12px;
box-shadow:0 8px 28px rgba(16,18,20,.22);font-size:14px;line-height:1.4}
.hl-toast-image{flex:none;width:48px;height:48px;object-fit:cover;border-radius:8px}
.hl-toast-text{overflow-wrap:anywhere}
.hl-toast-text a{color:var(--hookline-accent,#1a56db);font-weight:600}
.hl-toast-time{margin:2px 0 0}
"#;
