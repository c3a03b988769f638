//! `El`: a small builder of elements, which the widget's views use instead of `html!`.
//!
//! Why: `html!` expands every element in place (its attributes, listeners, children and node
//! ref), about 400 bytes of WebAssembly each; the widget's ~150 elements cost more than the
//! bundle's budget allows. Every method here is one shared function, so an element costs a
//! few calls. The DOM Yew renders is the same. Must hold no logic: it builds what it is told.

use std::rc::Rc;

use yew::html::{onclick, onkeydown, onsubmit};
use yew::prelude::*;
use yew::virtual_dom::{VTag, VText};

/// An element being built; [`El::h`] (or `Html::from`) finishes it. Boxed, so passing it
/// along a chain of calls moves a pointer, not the whole tag.
#[derive(Debug)]
pub struct El(Box<VTag>);

/// `<tag class="class">`; an empty `class` sets none.
#[inline(never)]
pub fn el(tag: &'static str, class: &'static str) -> El {
    let mut tag = VTag::new(tag);
    if !class.is_empty() {
        tag.add_attribute("class", class);
    }
    El(Box::new(tag))
}

/// A text node.
#[inline(never)]
pub fn text(text: AttrValue) -> Html {
    VText::new(text).into()
}

impl El {
    /// Sets attribute `name`.
    #[inline(never)]
    pub fn attr(mut self, name: &'static str, value: AttrValue) -> Self {
        self.0.add_attribute(name, value);
        self
    }

    /// Sets attribute `name` to a fixed text.
    #[inline(never)]
    pub fn a(self, name: &'static str, value: &'static str) -> Self {
        self.attr(name, AttrValue::Static(value))
    }

    /// Sets attribute `name` to a text made at run time.
    #[inline(never)]
    pub fn a_s(self, name: &'static str, value: String) -> Self {
        self.attr(name, AttrValue::from(value))
    }

    /// Sets attribute `name` to `value` when `on` (boolean attributes: `disabled`, `required`…).
    #[inline(never)]
    pub fn a_if(self, on: bool, name: &'static str, value: &'static str) -> Self {
        if on {
            self.attr(name, AttrValue::Static(value))
        } else {
            self
        }
    }

    #[inline(never)]
    pub fn c(mut self, child: Html) -> Self {
        self.0.add_child(child);
        self
    }

    /// A child element.
    #[inline(never)]
    pub fn e(self, child: El) -> Self {
        self.c(child.h())
    }

    /// A fixed text child.
    #[inline(never)]
    pub fn t(self, value: &'static str) -> Self {
        self.c(text(AttrValue::Static(value)))
    }

    /// A text child made at run time.
    #[inline(never)]
    pub fn t_s(self, value: String) -> Self {
        self.c(text(AttrValue::from(value)))
    }

    #[inline(never)]
    pub fn cs(mut self, children: Vec<Html>) -> Self {
        self.0.add_children(children);
        self
    }

    /// Binds `node` to the rendered element.
    #[inline(never)]
    pub fn r(mut self, node: &NodeRef) -> Self {
        self.0.node_ref = node.clone();
        self
    }

    /// The `value` of an `<input>` (a property, as `html!` sets it).
    #[inline(never)]
    pub fn value(mut self, value: AttrValue) -> Self {
        self.0.set_value(value);
        self
    }

    #[inline(never)]
    pub fn click(mut self, callback: Callback<MouseEvent>) -> Self {
        self.0
            .add_listener(Rc::new(onclick::Wrapper::new(callback)));
        self
    }

    #[inline(never)]
    pub fn submit(mut self, callback: Callback<SubmitEvent>) -> Self {
        self.0
            .add_listener(Rc::new(onsubmit::Wrapper::new(callback)));
        self
    }

    #[inline(never)]
    pub fn keydown(mut self, callback: Callback<KeyboardEvent>) -> Self {
        self.0
            .add_listener(Rc::new(onkeydown::Wrapper::new(callback)));
        self
    }

    #[inline(never)]
    pub fn h(self) -> Html {
        (*self.0).into()
    }
}

impl From<El> for Html {
    fn from(element: El) -> Self {
        element.h()
    }
}
