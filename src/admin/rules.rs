//! 人工服务规则: service rules — idle timeout, weekly working hours in a time zone with dated
//! exceptions, the off-hours and no-agent messages — and a preview ("open now" / "opens
//! Monday 09:00") of the hours being edited, computed by kefu-core on the server.

use leptos::prelude::*;
use leptos::task::spawn_local;

use kefu_core::config::{HoursException, ServiceRule, TimeRange, Weekday, WeeklyHours};
use kefu_core::hours::OpeningPreview;

use crate::admin::api;
use crate::admin::{CheckField, FieldError, Problems, SaveBar, TextField, texts};
use crate::i18n::{AdminTexts, Lang, fill};

/// What the preview says, in words.
pub fn preview_text(texts: &AdminTexts, preview: &OpeningPreview) -> String {
    if preview.open {
        return texts.open_now.to_owned();
    }
    match &preview.next_opening_local {
        Some(local) => fill(
            &fill(texts.opens_at, "day", weekday_name(texts, local.weekday)),
            "time",
            &local.time,
        ),
        None => texts.closed_for_now.to_owned(),
    }
}

pub fn weekday_name(texts: &AdminTexts, day: Weekday) -> &'static str {
    let index = Weekday::ALL
        .iter()
        .position(|each| *each == day)
        .unwrap_or(0);
    texts.weekdays[index]
}

/// A new rule, open on workdays 09:00–18:00 in Asia/Shanghai.
fn new_rule(number: usize) -> ServiceRule {
    let mut rule: ServiceRule = serde_json::from_value(serde_json::json!({
        "name": format!("rule-{number}"),
        "working_hours": { "time_zone": "Asia/Shanghai" }
    }))
    .expect("a rule with defaults");
    rule.working_hours.weekly.push(WeeklyHours {
        days: Weekday::WORKDAYS.to_vec(),
        from: "09:00".into(),
        to: "18:00".into(),
    });
    rule
}

#[component]
pub fn RulesPage(lang: RwSignal<Lang>, token: String) -> impl IntoView {
    let t = move || texts(lang);
    let rules = RwSignal::new(Vec::<ServiceRule>::new());
    let loaded = RwSignal::new(0u32);
    let problems: Problems = RwSignal::new(Vec::new());
    let saved = RwSignal::new(false);
    {
        let token = token.clone();
        spawn_local(async move {
            match api::config(&token).await {
                Ok(config) => {
                    rules.set(config.rules);
                    loaded.update(|count| *count += 1);
                }
                Err(error) => problems.set(error.problems()),
            }
        });
    }
    let on_save = {
        let token = token.clone();
        Callback::new(move |()| {
            let token = token.clone();
            let body = rules.get_untracked();
            saved.set(false);
            spawn_local(async move {
                match api::save_section(&token, "rules", &body).await {
                    Ok(_) => {
                        problems.set(Vec::new());
                        saved.set(true);
                    }
                    Err(error) => problems.set(error.problems()),
                }
            });
        })
    };
    let count = Memo::new(move |_| rules.with(Vec::len));
    view! {
        <section class="kefu-admin-page" aria-labelledby="kefu-admin-rules">
            <h2 id="kefu-admin-rules">{move || t().page_rules}</h2>
            {move || {
                loaded.get();
                (0..count.get()).map(|index| view! { <RuleEditor lang rules index problems token=token.clone()/> }).collect_view()
            }}
            <button type="button" on:click=move |_| rules.update(|rules| rules.push(new_rule(rules.len() + 1)))>{move || t().add_rule}</button>
            <SaveBar lang problems saved on_save/>
        </section>
    }
}

/// One rule's fields.
#[component]
pub fn RuleEditor(
    lang: RwSignal<Lang>,
    rules: RwSignal<Vec<ServiceRule>>,
    index: usize,
    problems: Problems,
    token: String,
) -> impl IntoView {
    let t = move || texts(lang);
    let rule = rules
        .with_untracked(|rules| rules.get(index).cloned())
        .unwrap_or_else(|| new_rule(index + 1));
    let path = format!("rules[{index}]");
    let edit = move |change: Box<dyn Fn(&mut ServiceRule)>| {
        rules.update(|rules| {
            if let Some(rule) = rules.get_mut(index) {
                change(rule);
            }
        })
    };
    let hours = Memo::new(move |_| {
        rules.with(|rules| rules.get(index).map(|rule| rule.working_hours.clone()))
    });
    let weekly_count = Memo::new(move |_| hours.get().map_or(0, |hours| hours.weekly.len()));
    let exception_count = Memo::new(move |_| hours.get().map_or(0, |hours| hours.exceptions.len()));
    // Ranges are redrawn when one is added or removed (their values move up).
    let redraw = RwSignal::new(0u32);

    let preview = RwSignal::new(None::<OpeningPreview>);
    // Answers may arrive out of order while the admin types: only the latest request counts.
    let asked = StoredValue::new(0u32);
    Effect::new(move |_| {
        let Some(hours) = hours.get() else { return };
        let token = token.clone();
        asked.update_value(|count| *count += 1);
        let this = asked.get_value();
        spawn_local(async move {
            let answer = api::hours_preview(&token, &hours).await.ok();
            if asked.try_get_value() == Some(this) {
                let _ = preview.try_set(answer);
            }
        });
    });
    let name_label = Signal::derive(move || fill(t().rule_name, "n", &(index + 1).to_string()));
    let rule_heading = move || {
        rules.with(|rules| {
            rules
                .get(index)
                .map(|rule| rule.name.clone())
                .unwrap_or_default()
        })
    };

    view! {
        <fieldset class="kefu-rule">
            <legend>{move || t().rule}" "{rule_heading}</legend>
            <TextField label=name_label value=rule.name.clone() problems path=format!("{path}.name")
                on_input=Callback::new(move |value: String| edit(Box::new(move |rule| rule.name = value.clone())))/>
            <TextField label=Signal::derive(move || t().idle_timeout.to_owned()) kind="number" value=rule.idle_timeout_minutes.to_string()
                problems path=format!("{path}.idle_timeout_minutes")
                on_input=Callback::new(move |value: String| edit(Box::new(move |rule| rule.idle_timeout_minutes = value.trim().parse().unwrap_or(0))))/>
            <TextField label=Signal::derive(move || t().time_zone.to_owned()) value=rule.working_hours.time_zone.clone()
                problems path=format!("{path}.working_hours.time_zone")
                on_input=Callback::new(move |value: String| edit(Box::new(move |rule| rule.working_hours.time_zone = value.trim().to_owned())))/>
            <h3>{move || t().weekly_hours}</h3>
            <p class="kefu-preview" role="status" aria-label=move || t().hours_preview>
                {move || t().hours_preview}": "{move || preview.get().map(|preview| preview_text(t(), &preview)).unwrap_or_default()}
            </p>
            {move || {
                redraw.get();
                let path = path.clone();
                (0..weekly_count.get()).map(move |range| {
                    let current = rules.with_untracked(|rules| rules[index].working_hours.weekly[range].clone());
                    let range_path = format!("{path}.working_hours.weekly[{range}]");
                    let n = (range + 1).to_string();
                    let edit_range = move |change: Box<dyn Fn(&mut WeeklyHours)>| {
                        rules.update(|rules| {
                            if let Some(weekly) = rules.get_mut(index).and_then(|rule| rule.working_hours.weekly.get_mut(range)) {
                                change(weekly);
                            }
                        })
                    };
                    let n_group = n.clone();
                    let n_from = n.clone();
                    let n_to = n.clone();
                    let n_remove = n.clone();
                    view! {
                        <div class="kefu-range" role="group" aria-label=move || fill(t().range, "n", &n_group)>
                            <span class="kefu-range-title">{move || fill(t().range, "n", &n)}</span>
                            {Weekday::ALL.into_iter().enumerate().map(|(day_index, day)| {
                                let checked = current.days.contains(&day);
                                view! {
                                    <CheckField label=Signal::derive(move || t().weekdays[day_index].to_owned()) checked
                                        on_change=Callback::new(move |on: bool| edit_range(Box::new(move |weekly| {
                                            weekly.days.retain(|each| *each != day);
                                            if on { weekly.days.push(day); weekly.days.sort(); }
                                        })))/>
                                }
                            }).collect_view()}
                            <TextField label=Signal::derive(move || fill(t().range_from, "n", &n_from)) value=current.from.clone()
                                problems path=format!("{range_path}.from")
                                on_input=Callback::new(move |value: String| edit_range(Box::new(move |weekly| weekly.from = value.trim().to_owned())))/>
                            <TextField label=Signal::derive(move || fill(t().range_to, "n", &n_to)) value=current.to.clone()
                                problems path=format!("{range_path}.to")
                                on_input=Callback::new(move |value: String| edit_range(Box::new(move |weekly| weekly.to = value.trim().to_owned())))/>
                            <FieldError lang problems path=range_path.clone()/>
                            <button type="button" on:click=move |_| {
                                edit(Box::new(move |rule| { rule.working_hours.weekly.remove(range); }));
                                redraw.update(|count| *count += 1);
                            }>{move || fill(t().remove_range, "n", &n_remove)}</button>
                        </div>
                    }
                }).collect_view()
            }}
            <button type="button" on:click=move |_| edit(Box::new(|rule| rule.working_hours.weekly.push(WeeklyHours {
                days: Weekday::WORKDAYS.to_vec(), from: "09:00".into(), to: "18:00".into(),
            })))>{move || t().add_range}</button>
            <h3>{move || t().exceptions}</h3>
            {move || {
                redraw.get();
                let path = format!("rules[{index}].working_hours.exceptions");
                (0..exception_count.get()).map(move |number| {
                    let current = rules.with_untracked(|rules| rules[index].working_hours.exceptions[number].clone());
                    let exception_path = format!("{path}[{number}]");
                    let edit_exception = move |change: Box<dyn Fn(&mut HoursException)>| {
                        rules.update(|rules| {
                            if let Some(exception) = rules.get_mut(index).and_then(|rule| rule.working_hours.exceptions.get_mut(number)) {
                                change(exception);
                            }
                        })
                    };
                    let set_range = move |from: Option<String>, to: Option<String>| edit_exception(Box::new(move |exception| {
                        let old = exception.open.first().cloned().unwrap_or(TimeRange { from: String::new(), to: String::new() });
                        let range = TimeRange { from: from.clone().unwrap_or(old.from), to: to.clone().unwrap_or(old.to) };
                        exception.open = if range.from.is_empty() && range.to.is_empty() { Vec::new() } else { vec![range] };
                    }));
                    let first = current.open.first().cloned();
                    let n = (number + 1).to_string();
                    let (n_date, n_from, n_to, n_note, n_remove) = (n.clone(), n.clone(), n.clone(), n.clone(), n);
                    view! {
                        <div class="kefu-range" role="group">
                            <TextField label=Signal::derive(move || fill(t().exception_date, "n", &n_date)) kind="date" value=current.date.clone()
                                problems path=format!("{exception_path}.date")
                                on_input=Callback::new(move |value: String| edit_exception(Box::new(move |exception| exception.date = value.clone())))/>
                            <TextField label=Signal::derive(move || fill(t().exception_from, "n", &n_from)) value=first.as_ref().map(|range| range.from.clone()).unwrap_or_default()
                                problems path=format!("{exception_path}.open[0].from")
                                on_input=Callback::new(move |value: String| set_range(Some(value.trim().to_owned()), None))/>
                            <TextField label=Signal::derive(move || fill(t().exception_to, "n", &n_to)) value=first.as_ref().map(|range| range.to.clone()).unwrap_or_default()
                                problems path=format!("{exception_path}.open[0].to")
                                on_input=Callback::new(move |value: String| set_range(None, Some(value.trim().to_owned())))/>
                            <TextField label=Signal::derive(move || fill(t().exception_note, "n", &n_note)) value=current.note.clone().unwrap_or_default()
                                problems path=format!("{exception_path}.note")
                                on_input=Callback::new(move |value: String| edit_exception(Box::new(move |exception| {
                                    exception.note = (!value.trim().is_empty()).then(|| value.trim().to_owned());
                                })))/>
                            <button type="button" on:click=move |_| {
                                edit(Box::new(move |rule| { rule.working_hours.exceptions.remove(number); }));
                                redraw.update(|count| *count += 1);
                            }>{move || fill(t().remove_exception, "n", &n_remove)}</button>
                        </div>
                    }
                }).collect_view()
            }}
            <button type="button" on:click=move |_| edit(Box::new(|rule| rule.working_hours.exceptions.push(HoursException {
                date: String::new(), open: Vec::new(), note: None,
            })))>{move || t().add_exception}</button>
            <TextField label=Signal::derive(move || t().off_hours_message.to_owned()) multiline=true value=rule.off_hours_message.clone()
                problems path=format!("rules[{index}].off_hours_message")
                on_input=Callback::new(move |value: String| edit(Box::new(move |rule| rule.off_hours_message = value.clone())))/>
            <TextField label=Signal::derive(move || t().no_agent_message.to_owned()) multiline=true value=rule.no_agent_message.clone()
                problems path=format!("rules[{index}].no_agent_message")
                on_input=Callback::new(move |value: String| edit(Box::new(move |rule| rule.no_agent_message = value.clone())))/>
            <TextField label=Signal::derive(move || t().idle_timeout_message.to_owned()) multiline=true value=rule.idle_timeout_message.clone()
                problems path=format!("rules[{index}].idle_timeout_message")
                on_input=Callback::new(move |value: String| edit(Box::new(move |rule| rule.idle_timeout_message = value.clone())))/>
        </fieldset>
    }
}
