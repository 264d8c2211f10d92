//! A buyer's saved addresses and cart.

use super::*;

pub async fn add_address(
    state: &AppState,
    user: &User,
    draft: &AddressDraft,
) -> AppResult<Address> {
    let address = Address {
        id: state.ids.next_id(),
        to: draft.parse()?,
        created_at: Timestamp::now(),
    };
    store::insert_address(&state.db, user.id, &address).await?;
    Ok(address)
}

pub async fn addresses(state: &AppState, user: &User) -> AppResult<Vec<Address>> {
    Ok(store::addresses(&state.db, user.id).await?)
}

pub async fn delete_address(state: &AppState, user: &User, id: Id) -> AppResult<()> {
    match store::delete_address(&state.db, user.id, id).await? {
        true => Ok(()),
        false => Err(AppError::NotFound("address")),
    }
}

/// Puts a SKU in the cart with this quantity; it must be on sale.
pub async fn put_in_cart(
    state: &AppState,
    user: &User,
    line: &LineRequest,
) -> AppResult<Vec<CartItem>> {
    in_range("quantity", line.quantity, 1, MAX_QUANTITY).map_err(one)?;
    let product = crate::shop::store::product_of_sku(&state.db, line.sku_id)
        .await?
        .ok_or(AppError::NotFound("sku"))?;
    shop::product(state, None, product).await?;
    if let Some(note) = line.note_id {
        if store::tagged_by(&state.db, note, product).await?.is_none() {
            return Err(one(FieldError::new("note_id", "does not tag this product")));
        }
    }
    store::put_in_cart(&state.db, user.id, line, Timestamp::now()).await?;
    cart(state, user).await
}

pub async fn remove_from_cart(state: &AppState, user: &User, sku: Id) -> AppResult<Vec<CartItem>> {
    let mut tx = state.db.begin_write().await?;
    store::remove_from_cart(&mut tx, user.id, &[sku]).await?;
    tx.commit().await?;
    cart(state, user).await
}

/// The units in the member's cart, for the header's badge.
pub async fn cart_units(state: &AppState, user: &User) -> AppResult<i64> {
    Ok(store::cart_units(&state.db, user.id).await?)
}

pub async fn cart(state: &AppState, user: &User) -> AppResult<Vec<CartItem>> {
    Ok(store::cart(&state.db, user.id).await?)
}
