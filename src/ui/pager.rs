//! Page links under a list: total count, first/previous/numbered/next/last.

use leptos::prelude::*;

#[component]
pub fn Pager(total: i64, page: u32, page_count: u32, href: Callback<u32, String>) -> impl IntoView {
    let first = page.saturating_sub(2).max(1);
    let last = (first + 4).min(page_count);
    let first = last.saturating_sub(4).max(1);
    let link = move |target: u32, label: String, enabled: bool, class: &'static str| {
        if enabled {
            view! { <a class=format!("page-link {class}") href=href.run(target)>{label}</a> }.into_any()
        } else {
            view! { <span class=format!("page-link disabled {class}")>{label}</span> }.into_any()
        }
    };
    view! {
        <nav class="pager" aria-label="Pagination">
            <span class="pager-total" data-testid="total-count">
                {format!("Total Records: {total}")}
            </span>
            {link(1, "«".into(), page > 1, "first")}
            {link(page.saturating_sub(1).max(1), "‹ Prev".into(), page > 1, "prev")}
            {(first..=last)
                .map(|number| {
                    if number == page {
                        view! { <span class="page-link current" aria-current="page">{number}</span> }.into_any()
                    } else {
                        link(number, number.to_string(), true, "")
                    }
                })
                .collect_view()}
            {link(page + 1, "Next ›".into(), page < page_count, "next")}
            {link(page_count, "»".into(), page < page_count, "last")}
        </nav>
    }
}
