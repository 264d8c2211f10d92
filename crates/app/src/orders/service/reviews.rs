//! Reviews of what a buyer received.

use super::*;

/// The buyer reviews an item of their order once it was delivered; each item once.
pub async fn review(
    state: &AppState,
    buyer: &User,
    order: Id,
    position: usize,
    draft: &ReviewDraft,
) -> AppResult<Review> {
    let (order, party) = order_for(state, buyer, order).await?;
    if party != Party::Buyer {
        return Err(AppError::Forbidden("only the buyer may review an order"));
    }
    let item = order
        .items
        .get(position)
        .ok_or(AppError::NotFound("item"))?;
    if !matches!(
        order.status,
        OrderStatus::Delivered | OrderStatus::Completed
    ) {
        return Err(AppError::Conflict(
            "status",
            format!(
                "the order is {}; items are reviewed after delivery",
                order.status.as_str()
            ),
        ));
    }
    let mut fields = crate::accounts::types::Fields::default();
    let rating = fields.check(in_range("rating", draft.rating, 1, 5));
    let body = fields.check(crate::notes::types::parse_text(
        "body",
        &draft.body,
        500,
        false,
    ));
    let media = fields.check(review_media(state, buyer, &draft.media_ids).await?);
    let ((rating, body), media) = fields.finish(rating.zip(body).zip(media))?;
    let review = Review {
        id: state.ids.next_id(),
        product_id: item.product_id,
        buyer: crate::notes::types::Author {
            id: buyer.id,
            handle: buyer.handle.clone(),
            display_name: buyer.display_name.clone(),
        },
        sku_name: item.sku_name.clone(),
        rating,
        body,
        media,
        verified_purchase: true,
        created_at: Timestamp::now(),
    };
    let mut tx = state.db.begin_write().await?;
    if !store::insert_review(&mut tx, &review, order.id, position as i64).await? {
        return Err(AppError::Conflict(
            "item",
            "this item is reviewed already".into(),
        ));
    }
    let change = Change::Reviewed {
        review: review.id,
        order: order.id,
        product: review.product_id,
    };
    state.changes.record(&mut tx, change).await?;
    state.changes.commit(tx).await?;
    Ok(review)
}

/// Up to nine of the buyer's own images.
pub(super) async fn review_media(
    state: &AppState,
    buyer: &User,
    ids: &[Id],
) -> AppResult<Result<Vec<crate::media::types::Media>, FieldError>> {
    if ids.len() > 9 {
        return Ok(Err(FieldError::new("media_ids", "at most 9 images")));
    }
    let owned = crate::media::service::owned(state, buyer.id, ids).await?;
    let ordered: Option<Vec<_>> = ids
        .iter()
        .map(|id| owned.iter().find(|m| m.id == *id).cloned())
        .collect();
    Ok(ordered.ok_or_else(|| FieldError::new("media_ids", "must be images you uploaded")))
}

/// A product's reviews, newest first.
pub async fn reviews(state: &AppState, product: Id, page: &PageRequest) -> AppResult<Page<Review>> {
    let (size, before) = page_bounds(page)?;
    let rows = store::reviews(&state.db, product, before, size + 1).await?;
    Ok(Page::from_rows(rows, size, |r| r.id.as_i64()))
}
