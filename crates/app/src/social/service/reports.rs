//! Reports for moderators.

use super::*;

/// Files a report for moderators about a note, comment or member the reporter can see.
pub async fn report(
    state: &AppState,
    actor: &User,
    target: ReportTarget,
    id: Id,
    reason: ReportReason,
    detail: &str,
) -> AppResult<Id> {
    let detail = parse_text("detail", detail, MAX_COMMENT, false)?;
    match target {
        ReportTarget::Note => drop(notes::get(state, Some(actor), id).await?),
        ReportTarget::Comment => drop(visible_comment(state, actor, id).await?),
        ReportTarget::User => {
            crate::accounts::store::user_by_id(&state.db, id)
                .await?
                .ok_or(AppError::NotFound("user"))?;
        }
    }
    let report_id = state.ids.next_id();
    let report = NewReport {
        id: report_id,
        reporter: actor.id,
        target_kind: target.as_str(),
        target_id: id,
        reason: reason.as_str(),
        detail: &detail,
    };
    store::insert_report(&state.db, &report).await?;
    Ok(report_id)
}
