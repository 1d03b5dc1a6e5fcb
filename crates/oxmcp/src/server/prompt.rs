//! Prompts: templates of messages, with arguments.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use oxmcp_proto::model::{self, GetPromptResult, PromptArgument};

use super::context::Context;
use super::{BoxFuture, Completer};
use crate::error::Error;

type GetFn = dyn Fn(HashMap<String, String>, Context) -> BoxFuture<Result<GetPromptResult, Error>>
    + Send
    + Sync;

/// A prompt the server offers.
#[derive(Clone)]
pub struct Prompt {
    pub(crate) def: model::Prompt,
    pub(crate) get: Arc<GetFn>,
    pub(crate) completions: HashMap<String, Completer>,
}

impl std::fmt::Debug for Prompt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prompt")
            .field("name", &self.def.name)
            .finish_non_exhaustive()
    }
}

impl Prompt {
    /// A prompt; `get` gets the arguments (required ones are checked before it runs).
    pub fn new<F, Fut>(name: impl Into<String>, description: impl Into<String>, get: F) -> Prompt
    where
        F: Fn(HashMap<String, String>, Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<GetPromptResult, Error>> + Send + 'static,
    {
        let def = model::Prompt {
            name: name.into(),
            description: Some(description.into()),
            ..Default::default()
        };
        Prompt {
            def,
            get: Arc::new(move |args, ctx| Box::pin(get(args, ctx)) as BoxFuture<_>),
            completions: HashMap::new(),
        }
    }

    /// Declares an argument.
    pub fn argument(
        mut self,
        name: impl Into<String>,
        description: impl Into<String>,
        required: bool,
    ) -> Self {
        let arg = PromptArgument {
            name: name.into(),
            description: Some(description.into()),
            required: Some(required),
            ..Default::default()
        };
        self.def.arguments.get_or_insert_with(Vec::new).push(arg);
        self
    }

    /// Completes values of argument `name` for `completion/complete`.
    pub fn complete(
        mut self,
        name: &str,
        f: impl Fn(&str, &HashMap<String, String>) -> Vec<String> + Send + Sync + 'static,
    ) -> Self {
        self.completions.insert(name.to_owned(), Arc::new(f));
        self
    }

    /// Sets the human-readable title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.def.title = Some(title.into());
        self
    }

    /// The definition `prompts/list` shows.
    pub fn definition(&self) -> &model::Prompt {
        &self.def
    }
}
