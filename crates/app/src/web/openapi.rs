//! Makes the OpenAPI document say what the server does with errors: every error answer is
//! `application/problem+json` with the `Problem` schema, and every operation lists the error
//! statuses the shared plumbing can give it (bad or invalid input, a missing thing, a body too
//! large or of the wrong type, rate limits, a busy or failing server), beside the ones its
//! handler declares.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response};

pub struct ProblemResponses;

impl utoipa::Modify for ProblemResponses {
    fn modify(&self, openapi: &mut OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [
                (&mut item.get, false),
                (&mut item.head, false),
                (&mut item.post, true),
                (&mut item.put, true),
                (&mut item.patch, true),
                (&mut item.delete, true),
            ];
            for (operation, writes) in operations {
                if let Some(operation) = operation {
                    add_problems(path, operation, writes);
                }
            }
        }
    }
}

/// The statuses the shared plumbing can answer an operation with, and why.
fn plumbing_statuses(
    path: &str,
    operation: &Operation,
    writes: bool,
) -> Vec<(&'static str, &'static str)> {
    let has_path = path.contains('{');
    let has_query = operation
        .parameters
        .iter()
        .flatten()
        .any(|p| p.parameter_in == ParameterIn::Query);
    let has_body = operation.request_body.is_some();
    let mut statuses = vec![("500", "Something went wrong on our side")];
    if has_path || has_query || has_body {
        statuses.push(("400", "The request could not be read"));
        statuses.push(("422", "A field is invalid"));
    }
    // A provider's notifications are not found where that provider is not configured.
    if has_path || path.starts_with("/api/v1/payments/notify/") {
        statuses.push(("404", "No such thing, or not for you to see"));
    }
    if has_body {
        statuses.push(("413", "The body is larger than the limit"));
        statuses.push(("415", "The body is not JSON"));
    }
    // Whatever may be refused to someone needs someone signed in.
    if writes || operation.responses.responses.contains_key("403") {
        statuses.push(("401", "Sign in first"));
    }
    if writes {
        statuses.push(("403", "Not allowed"));
        statuses.push(("409", "In conflict with the current state"));
        statuses.push(("429", "Too many requests; see Retry-After"));
    }
    if path == "/api/v1/media" {
        statuses.push(("503", "Busy decoding images; see Retry-After"));
    }
    statuses
}

fn add_problems(path: &str, operation: &mut Operation, writes: bool) {
    let statuses = plumbing_statuses(path, operation, writes);
    let responses = &mut operation.responses.responses;
    for (status, description) in statuses {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(Response::new(description)));
    }
    for (status, response) in responses.iter_mut() {
        let (RefOr::T(response), true) = (response, status.as_str() >= "400") else {
            continue;
        };
        response.content.clear();
        let problem = Content::new(Some(Ref::from_schema_name("Problem")));
        response
            .content
            .insert("application/problem+json".to_owned(), problem);
    }
}
