// calendence-widget.js: <calendence-widget>, the booking widget a business
// puts on its own web site (SPEC 12; docs/widget.md). One ES module, no
// dependencies, no build step: service -> date -> slot -> hold -> details
// -> confirm -> booked, against the /api/v1 of the origin that served it.

const VERSION = '1';
// the API: the origin this file came from, whatever the page's origin
const API = new URL('/api/v1', import.meta.url).href;
const REFRESH_BEFORE_MS = 5 * 60 * 1000; // refresh a session 5 minutes before it ends
const HOLD_MS = 10 * 60 * 1000;          // a hold lives 10 minutes (SPEC 9)
const SESSION_MS = 60 * 60 * 1000;       // a session, one hour (SPEC 5)
const NET_RETRIES = 3;                   // tries after a network error, 1, 2, 4 s apart
const WAIT_RETRIES = 5;                  // 429/503 waits honoured before giving up

// every error code of the API, in words a client understands
const SETUP = 'This booking form is not set up correctly. Please contact the business.';
const GONE = 'This booking form is no longer active. Please contact the business.';
const RESEND = 'Something went wrong while sending your request. Please try again.';
const WORDS = {
	missing_api_key: SETUP, invalid_api_key: SETUP, key_type_not_allowed: SETUP,
	business_not_accessible: SETUP, business_required: SETUP,
	api_key_revoked: GONE, api_key_expired: GONE,
	session_expired: 'Your booking session ended. Please start again.',
	plan_upgrade_required: 'Online booking is not available for this business right now.',
	business_inactive: 'This business is not taking online bookings right now.',
	origin_not_allowed: 'Online booking is not enabled for this web site. Please contact the business to book.',
	rate_limited: 'Too many requests right now.',
	hold_expired: 'Your hold on that time ran out, so it was released. Please choose a time again.',
	slot_unavailable: 'Sorry, that time was just taken. Please choose another time.',
	too_many_holds: 'You already hold as many times as you may. Finish another booking first.',
	validation_failed: 'Please check the form.',
	not_found: 'That is no longer offered. Please choose again.',
	invalid_json: RESEND, invalid_request: RESEND, unsupported_media_type: RESEND,
	method_not_allowed: RESEND, invalid_transition: RESEND,
	booking_not_cancellable: 'This booking can no longer be changed.',
	payload_too_large: 'What you typed is too long. Please shorten it.',
	internal_error: 'Something went wrong on our side. Please try again.',
	service_unavailable: 'Booking is briefly unavailable.',
	network: 'We cannot reach the booking service. Check your connection and try again.',
};

const STYLE = `
:host { display: block; max-width: 28rem; font: var(--calendence-font, 1rem/1.4 system-ui, sans-serif);
  color: var(--calendence-fg, #1f2937); --a: var(--calendence-accent, #2563eb); --bg: var(--calendence-bg, #fff);
  --r: var(--calendence-radius, 8px); --b: 1px solid var(--calendence-border, #d1d5db); --e: var(--calendence-error, #b91c1c); }
.cw { background: var(--bg); border: var(--b); border-radius: var(--r); padding: 1rem; }
h2 { font-size: 1.15em; margin: 0 0 .5rem; }
h3 { font-size: 1em; margin: .75rem 0 .5rem; }
h2:focus, h3:focus { outline: none; }
button, input, select, textarea { font: inherit; }
button { border-radius: var(--r); border: 1px solid var(--a); background: var(--bg); color: var(--a); padding: .4rem .8rem; cursor: pointer; }
button.primary { background: var(--a); color: var(--calendence-accent-fg, #fff); }
:focus-visible { outline: 3px solid var(--calendence-focus, #f59e0b); outline-offset: 2px; }
button[disabled] { opacity: .5; cursor: default; }
.list { display: flex; flex-wrap: wrap; gap: .5rem; list-style: none; padding: 0; margin: 0; }
.list.col { flex-direction: column; }
.list.col button { width: 100%; text-align: left; }
.field { margin: .5rem 0; display: flex; flex-direction: column; }
.field input, .field select, .field textarea { padding: .35rem; border: var(--b); border-radius: 4px; }
.field [aria-invalid="true"] { border-color: var(--e); }
.ferr, .msg.error { color: var(--e); }
.ferr { font-size: .9em; }
.msg:empty { display: none; }
.msg { margin: .5rem 0; padding: .5rem; border-radius: 4px; background: var(--calendence-note-bg, #f3f4f6); }
.row { display: flex; gap: .5rem; align-items: end; flex-wrap: wrap; margin: .5rem 0; }
.timer { font-weight: 600; }
.muted { color: var(--calendence-muted, #6b7280); font-size: .9em; }
dl { display: grid; grid-template-columns: auto 1fr; gap: .2rem .75rem; }
dt { font-weight: 600; } dd { margin: 0; }
`;

// esc: text made safe to put in HTML
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// money: cents as the business's price (the API gives no currency: dollars)
const money = (cents) => `$${(cents / 100).toFixed(2)}`;

// localDate: the business-local date (YYYY-MM-DD) of the instant ms in zone tz
function localDate(ms, tz) {
	const p = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric',
		month: '2-digit', day: '2-digit' }).formatToParts(new Date(ms));
	const v = (t) => p.find((x) => x.type === t).value;
	return `${v('year')}-${v('month')}-${v('day')}`;
}

// addDays: a YYYY-MM-DD date moved by n days (calendar arithmetic, no zone)
function addDays(d, n) {
	const [y, m, day] = d.split('-').map(Number);
	return new Date(Date.UTC(y, m - 1, day + n)).toISOString().slice(0, 10);
}

// dayLabel: "Monday, March 14, 2027" for a YYYY-MM-DD date
function dayLabel(d) {
	const [y, m, day] = d.split('-').map(Number);
	return new Date(Date.UTC(y, m - 1, day)).toLocaleDateString('en-US',
		{ timeZone: 'UTC', weekday: 'long', month: 'long', day: 'numeric', year: 'numeric' });
}

// clock: "9:30 AM" from the API's starts_at_local ("2027-03-14T09:30:00"),
// read as written: the server already applied the business's zone and DST
function clock(local) {
	const [h, m] = local.slice(11, 16).split(':').map(Number);
	return `${h % 12 || 12}:${String(m).padStart(2, '0')} ${h < 12 ? 'AM' : 'PM'}`;
}

// zoneAbbr: the zone's short name at an instant ("CST", "CDT")
function zoneAbbr(iso, tz) {
	const p = new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'short' })
		.formatToParts(new Date(iso));
	return p.find((x) => x.type === 'timeZoneName').value;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mmss = (ms) => { const s = Math.max(0, Math.ceil(ms / 1000));
	return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`; };

// ApiError: an answer of the API that is not a success, or no answer at all
class ApiError extends Error {
	constructor(status, code, message, param) {
		super(message || WORDS[code] || code);
		Object.assign(this, { status, code, param });
	}
}

class CalendenceWidget extends HTMLElement {
	#key = null;        // the publishable key, read once from the attribute
	#ses = null;        // { token, expires } of the live session
	#sesPromise = null; // the exchange or refresh in flight, shared by callers
	#timers = new Set();
	#gen = 0;           // bumped on restart: answers of an older run are dropped
	#onHide = () => this.#releaseHold(); // leaving the page gives the held time back

	static get observedAttributes() { return ['key', 'service-id', 'location-id']; }

	connectedCallback() {
		if (!this.shadowRoot) {
			this.attachShadow({ mode: 'open' });
			this.shadowRoot.addEventListener('click', (e) => this.#onClick(e));
			this.shadowRoot.addEventListener('input', (e) => this.#onInput(e));
			this.shadowRoot.addEventListener('change', (e) => this.#onChange(e));
			this.shadowRoot.addEventListener('submit', (e) => { e.preventDefault(); this.#onSubmit(e); });
		}
		addEventListener('pagehide', this.#onHide);
		this.#start();
	}

	disconnectedCallback() {
		removeEventListener('pagehide', this.#onHide);
		this.#releaseHold();
		this.#stopTimers();
		this.#gen++;
	}

	attributeChangedCallback(name, old, val) {
		if (old !== null && old !== val && this.isConnected) this.#start();
	}

	// #start: a fresh run: a new session, the first step
	async #start() {
		const gen = ++this.#gen;
		this.#releaseHold(); // a hold of the run before (an attribute changed)
		this.#stopTimers();
		this.#key = this.getAttribute('key');
		this.#ses = null;
		this.#sesPromise = null;
		this.s = { step: 'loading', form: {}, errors: {}, msg: '', msgKind: '' };
		this.#render();
		if (!this.#key) return this.#fatal(new ApiError(0, 'missing_api_key'));
		try {
			await this.#session();
			const sid = this.getAttribute('service-id');
			if (sid) {
				this.s.services = [await this.#api('GET', `/services/${encodeURIComponent(sid)}`)];
				if (gen === this.#gen) this.#pickService(this.s.services[0]);
			} else {
				const r = await this.#api('GET', '/services?per_page=50');
				if (gen !== this.#gen) return;
				this.s.services = r.data;
				this.#go('service');
			}
		} catch (e) {
			if (gen === this.#gen) this.#fatal(e);
		}
	}

	// #session: a live session token; exchanges the key, or refreshes a
	// session that ends within REFRESH_BEFORE_MS (one call in flight at once)
	async #session() {
		const s = this.#ses;
		if (s && s.expires - Date.now() > REFRESH_BEFORE_MS) return s.token;
		if (!this.#sesPromise) {
			// a refresh keeps the chain, and so the hold; a lapsed session
			// cannot refresh, so the key is exchanged again
			const cred = s && s.expires > Date.now() ? s.token : this.#key;
			this.#sesPromise = this.#call('POST', '/session', null, cred, null)
				.then((r) => {
					// counted from now, as holds are: the visitor's clock may be
					// off from the server's (an ended session: a new exchange)
					const left = Math.min(SESSION_MS, Date.parse(r.expires_at) - Date.now());
					this.#ses = { token: r.session_token,
						expires: Date.now() + (left > REFRESH_BEFORE_MS ? left : SESSION_MS) };
					this.s.business = r.business;
					this.#schedule(() => this.#session().catch(() => {}),
						this.#ses.expires - Date.now() - REFRESH_BEFORE_MS + 1000);
					return this.#ses.token;
				})
				.finally(() => { this.#sesPromise = null; });
		}
		return this.#sesPromise;
	}

	// #api: a call with the session token; see #call
	async #api(method, path, body, idemKey) {
		const token = await this.#session();
		try {
			return await this.#call(method, path, body, token, idemKey);
		} catch (e) {
			if (e.code !== 'session_expired') throw e;
			this.#ses = null; // ended elsewhere: a new session, one more try
			return this.#call(method, path, body, await this.#session(), idemKey);
		}
	}

	// #call: one request, retried with the same Idempotency-Key after a
	// network error, and after the wait a 429 or 503 names (Retry-After);
	// resolves with the JSON answer, rejects with an ApiError
	async #call(method, path, body, token, idemKey) {
		let net = 0, waits = 0, said = false; // said: a note of this call's to take back
		for (;;) {
			let res;
			try {
				res = await fetch(API + path, {
					method, body: body ? JSON.stringify(body) : null, mode: 'cors',
					credentials: 'omit', cache: 'no-store',
					headers: { Authorization: `Bearer ${token}`,
						...(body ? { 'Content-Type': 'application/json' } : {}),
						...(idemKey ? { 'Idempotency-Key': idemKey } : {}) },
				});
			} catch {
				if (net++ >= NET_RETRIES) throw new ApiError(0, 'network');
				this.#note(`Connection lost. Trying again (${net} of ${NET_RETRIES})…`);
				said = true;
				await sleep(1000 * 2 ** (net - 1));
				continue;
			}
			if (res.ok) {
				if (said) this.#note('');
				return res.status === 204 ? null : res.json();
			}
			const err = ((await res.json().catch(() => null)) || {}).error || {};
			const after = parseInt(res.headers.get('Retry-After'), 10);
			if ((res.status === 429 || res.status === 503) && after > 0 && waits++ < WAIT_RETRIES) {
				await this.#waitFor(after, WORDS[err.code] || WORDS.service_unavailable);
				continue;
			}
			throw new ApiError(res.status, err.code || 'internal_error', err.message, err.param);
		}
	}

	// #waitFor: shows "... Trying again in N s" counting down, for secs seconds
	async #waitFor(secs, words) {
		for (let left = secs; left > 0; left--) {
			this.#note(`${words} Trying again in ${left} s…`);
			await sleep(1000);
		}
		this.#note('');
	}

	#go(step, msg = '', kind = '') {
		Object.assign(this.s, { step, msg, msgKind: kind });
		this.#render();
		const h = this.shadowRoot.querySelector('[data-focus]');
		if (h && this.s.focus !== false) h.focus();
	}

	#fatal(e) {
		this.#go('fatal', WORDS[e.code] || e.message, 'error');
	}

	#pickService(svc) {
		const s = this.s;
		s.service = svc;
		s.date = s.date || localDate(Date.now(), s.business.timezone);
		this.#go('date');
		this.#loadSlots();
	}

	// #loadSlots: the free times of the chosen date, one per start and
	// location (the server picks the staff member when the hold is made)
	async #loadSlots() {
		const s = this.s, gen = this.#gen, date = s.date;
		s.slots = null;
		this.#drawSlots();
		const q = new URLSearchParams({ service_id: s.service.id, date_from: date, date_to: date });
		const loc = this.getAttribute('location-id');
		if (loc) q.set('location_id', loc);
		try {
			const r = await this.#api('GET', `/availability?${q}`);
			if (gen !== this.#gen || date !== s.date) return;
			const seen = new Set();
			s.slots = (r.data[date] || []).filter((x) => {
				const k = `${x.starts_at}|${x.location.id}`;
				return !seen.has(k) && seen.add(k);
			});
		} catch (e) {
			if (gen !== this.#gen) return;
			s.slots = [];
			this.#error(e);
		}
		this.#drawSlots();
	}

	// #drawSlots: the slot list alone (the rest of the step keeps its focus)
	#drawSlots() {
		const box = this.shadowRoot.querySelector('.slots');
		if (!box) return;
		box.innerHTML = this.#slotsHtml();
		box.dataset.date = this.s.slots ? this.s.date : ''; // the date listed, once loaded
	}

	async #hold(slot) {
		const s = this.s, gen = this.#gen;
		await this.#releaseHold();
		this.#busy(true);
		try {
			const h = await this.#api('POST', '/bookings/hold', { service_id: s.service.id,
				location_id: slot.location.id, starts_at: slot.starts_at }, crypto.randomUUID());
			if (gen !== this.#gen) return;
			// counted from now, not from expires_at alone: the visitor's
			// clock may be off from the server's
			const left = Math.min(HOLD_MS, Math.max(0, Date.parse(h.expires_at) - Date.now()));
			s.hold = { id: h.hold_id, deadline: Date.now() + (left || HOLD_MS), slot, staff: h.staff };
			this.#startCountdown();
			this.#go('details');
		} catch (e) {
			if (gen !== this.#gen) return;
			this.#busy(false);
			this.#error(e);
			if (e.code === 'slot_unavailable') this.#loadSlots();
		}
	}

	// #releaseHold: gives the held time back (best effort: a lapsed hold
	// frees itself), when the client goes back or leaves
	async #releaseHold() {
		const h = this.s && this.s.hold;
		if (!h) return;
		this.s.hold = null;
		this.#stopTimers('countdown');
		if (!this.#ses) return;
		try {
			await fetch(`${API}/bookings/hold/${h.id}`, { method: 'DELETE', keepalive: true,
				credentials: 'omit', headers: { Authorization: `Bearer ${this.#ses.token}` } });
		} catch { /* the hold lapses by itself within 10 minutes */ }
	}

	#startCountdown() {
		this.#stopTimers('countdown');
		let warned = false;
		const tick = () => {
			const h = this.s.hold;
			if (!h) return;
			const left = h.deadline - Date.now();
			const el = this.shadowRoot.querySelector('.timer');
			if (el) el.textContent = mmss(left);
			if (left <= 60000 && !warned) {
				warned = true;
				this.#note('One minute left to finish this booking.');
			}
			if (left <= 0) this.#holdLapsed(WORDS.hold_expired);
		};
		const id = setInterval(tick, 1000);
		this.#timers.add({ id, kind: 'countdown', clear: () => clearInterval(id) });
	}

	// #holdLapsed: back to the slots, once the hold is given back (so its
	// time is listed again)
	async #holdLapsed(words) {
		this.s.slots = null;
		this.#go('date', words, 'error');
		await this.#releaseHold();
		this.#loadSlots();
	}

	// #bookingBody: what POST /bookings gets, from what the client typed
	#bookingBody() {
		const f = this.s.form, cfv = {};
		for (const c of this.s.service.custom_fields || []) {
			const v = (f[`cf-${c.id}`] || '').trim();
			if (v) cfv[c.id] = v;
		}
		const client = { first_name: f.first_name || '', last_name: f.last_name || '',
			email: (f.email || '').trim() };
		if ((f.phone || '').trim()) client.phone = f.phone.trim();
		const b = { hold_id: this.s.hold.id, client, custom_field_values: cfv };
		if ((f.notes || '').trim()) b.notes = f.notes;
		return b;
	}

	// #book: POST /bookings; one Idempotency-Key per body, kept until the
	// server has answered, so a retry after a lost answer books once
	async #book() {
		const s = this.s, gen = this.#gen, body = this.#bookingBody(), json = JSON.stringify(body);
		if (!s.pending || s.pending.json !== json) s.pending = { key: crypto.randomUUID(), json };
		this.#busy(true);
		try {
			const b = await this.#api('POST', '/bookings', body, s.pending.key);
			if (gen !== this.#gen) return;
			s.pending = null;
			s.hold = null;
			this.#stopTimers('countdown');
			s.booking = b;
			this.#go('done');
			this.dispatchEvent(new CustomEvent('calendence:booked', { bubbles: true, composed: true,
				detail: { id: b.id, status: b.status, starts_at: b.starts_at,
					starts_at_local: b.starts_at_local, service: b.service } }));
		} catch (e) {
			if (gen !== this.#gen) return;
			this.#busy(false);
			if (e.code !== 'network') s.pending = null; // answered: a new try is a new request
			this.#bookFailed(e);
		}
	}

	#bookFailed(e) {
		const p = e.param || '';
		if (e.code === 'hold_expired') return this.#holdLapsed(WORDS.hold_expired);
		if (e.code === 'validation_failed' && /^(client\.|custom_field_values|notes)/.test(p)) {
			const field = p.replace(/^client\./, '').replace(/^custom_field_values\.?/, 'cf-');
			this.s.errors = { [field]: e.message };
			this.s.focusField = field;
			return this.#go('details', WORDS.validation_failed, 'error');
		}
		this.#error(e);
	}

	// #checkDetails: the required fields filled, before the server is asked
	#checkDetails() {
		const f = this.s.form, errs = {};
		for (const [k, label] of [['first_name', 'First name'], ['last_name', 'Last name'], ['email', 'Email']]) {
			if (!(f[k] || '').trim()) errs[k] = `${label} is required.`;
		}
		if (!errs.email && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(f.email.trim())) errs.email = 'Enter an email address such as name@example.com.';
		if ((f.phone || '').trim() && !/^\+[0-9]{7,15}$/.test(f.phone.trim())) errs.phone = 'Enter the phone number with its country code, such as +13125550100.';
		for (const c of this.s.service.custom_fields || []) {
			if (c.required && !(f[`cf-${c.id}`] || '').trim()) errs[`cf-${c.id}`] = `${c.label} is required.`;
		}
		this.s.errors = errs;
		this.s.focusField = Object.keys(errs)[0];
		return !this.s.focusField;
	}

	#error(e) {
		if (e.code === 'session_expired' || (e.status === 401 || e.status === 403)) return this.#fatal(e);
		this.#note(e.param && e.code === 'validation_failed' ? e.message : (WORDS[e.code] || e.message), 'error');
	}

	#onClick(e) {
		const b = e.target.closest('button[data-act]');
		if (!b || b.disabled) return;
		const s = this.s, act = b.dataset.act, i = Number(b.dataset.i);
		if (act === 'service') this.#pickService(s.services[i]);
		else if (act === 'slot') this.#hold(s.slots[i]);
		else if (act === 'day') this.#setDate(addDays(s.date, Number(b.dataset.n)));
		else if (act === 'back-service') this.#go('service');
		else if (act === 'back-slots') { s.slots = null; this.#go('date'); this.#releaseHold().then(() => this.#loadSlots()); }
		else if (act === 'back-details') this.#go('details');
		else if (act === 'book') this.#book();
		else if (act === 'again') { s.form = {}; s.booking = null; this.#go('date'); this.#loadSlots(); }
		else if (act === 'restart') this.#start();
	}

	#onInput(e) {
		const n = e.target.name;
		if (!n || !this.s.form) return;
		this.s.form[n] = e.target.value; // kept across steps and errors
		if (this.s.errors[n]) {
			delete this.s.errors[n];
			e.target.removeAttribute('aria-invalid');
			const fe = this.shadowRoot.getElementById(`err-${n}`);
			if (fe) fe.textContent = '';
		}
	}

	#onChange(e) {
		if (e.target.name === 'date' && e.target.value) this.#setDate(e.target.value);
		else this.#onInput(e);
	}

	#onSubmit(e) {
		if (e.target.dataset.form === 'details') {
			if (this.#checkDetails()) { this.s.focusField = null; this.#go('confirm'); }
			else this.#go('details', WORDS.validation_failed, 'error');
		}
	}

	// #setDate: a date picked or typed; one outside today .. the horizon
	// (such as year 0002 half-way through typing 2027) is only pointed out
	#setDate(d) {
		const s = this.s, today = localDate(Date.now(), s.business.timezone);
		if (d < today || d > addDays(today, 180)) {
			this.#note(`Choose a date from ${dayLabel(today)} to ${dayLabel(addDays(today, 180))}.`, 'error');
			return;
		}
		this.#note('');
		if (d === s.date && s.slots) return;
		s.date = d;
		const inp = this.shadowRoot.querySelector('input[name="date"]');
		if (inp && inp.value !== d) inp.value = d;
		const prev = this.shadowRoot.querySelector('[data-n="-1"]');
		if (prev) prev.disabled = d <= today;
		this.#loadSlots();
	}

	#note(msg, kind = '') {
		if (!this.s) return;
		Object.assign(this.s, { msg, msgKind: kind });
		const m = this.shadowRoot && this.shadowRoot.querySelector('.msg');
		if (m) { m.textContent = msg; m.className = `msg ${kind}`; }
	}

	#busy(on) {
		this.shadowRoot.querySelectorAll('button').forEach((b) => { b.disabled = on; });
	}

	#render() {
		const s = this.s, biz = s.business;
		const body = this.#stepHtml();
		this.shadowRoot.innerHTML = `<style>${STYLE}</style>
<section class="cw" part="widget" aria-label="Book an appointment${biz ? ` with ${esc(biz.name)}` : ''}">
<h2>${biz ? `Book with ${esc(biz.name)}` : 'Book an appointment'}</h2>
<div class="msg ${s.msgKind}" role="status" aria-live="polite">${esc(s.msg)}</div>
${body}</section>`;
		if (s.step === 'details' && s.focusField) {
			const f = this.shadowRoot.querySelector(`[name="${s.focusField}"]`);
			if (f) { s.focus = false; queueMicrotask(() => { f.focus(); s.focus = true; }); }
		}
	}

	#stepHtml() {
		const s = this.s;
		switch (s.step) {
		case 'loading': return '<p data-focus tabindex="-1">Loading…</p>';
		case 'fatal': return this.#fatalHtml();
		case 'service': return this.#serviceHtml();
		case 'date': return this.#dateHtml();
		case 'details': return this.#detailsHtml();
		case 'confirm': return this.#confirmHtml();
		case 'done': return this.#doneHtml();
		}
		return '';
	}

	#fatalHtml() {
		// the page's own fallback link (the element's content), when it has one
		const a = this.querySelector('a[href]');
		return `${a ? `<p><a href="${esc(a.href)}">${esc(a.textContent.trim() || 'Book online')}</a></p>` : ''}
<button type="button" data-act="restart">Try again</button>`;
	}

	#serviceHtml() {
		return `<h3 data-focus tabindex="-1">Choose a service</h3><ul class="list col">${this.s.services.map((v, i) =>
			`<li><button type="button" data-act="service" data-i="${i}">${esc(v.name)}
<span class="muted">· ${v.duration_max} min · ${money(v.rate)}${v.rate_type === 'hourly' ? '/h' : ''}</span></button></li>`).join('')}</ul>`;
	}

	#holdHtml() {
		return `<p>We hold this time for you for <span class="timer" role="timer">${mmss(this.s.hold.deadline - Date.now())}</span>.</p>`;
	}

	#whenHtml(startsIso, local) {
		const tz = this.s.business.timezone;
		return `${esc(dayLabel(local.slice(0, 10)))}, ${clock(local)} ${esc(zoneAbbr(startsIso, tz))}`;
	}

	#dateHtml() {
		const s = this.s, tz = s.business.timezone, today = localDate(Date.now(), tz);
		const many = !this.getAttribute('service-id');
		return `<h3 data-focus tabindex="-1">${esc(s.service.name)}: choose a date and time</h3>
<div class="row"><div class="field"><label for="date">Date</label>
<input type="date" id="date" name="date" value="${s.date}" min="${today}" max="${addDays(today, 180)}"></div>
<button type="button" data-act="day" data-n="-1" ${s.date <= today ? 'disabled' : ''}>Previous day</button>
<button type="button" data-act="day" data-n="1">Next day</button></div>
<p class="muted">Times are in the business's time zone, ${esc(tz)}.</p>
<div class="slots" data-date="${s.slots ? s.date : ''}">${this.#slotsHtml()}</div>${many ? '<p><button type="button" data-act="back-service">Back to services</button></p>' : ''}`;
	}

	#slotsHtml() {
		const s = this.s, tz = s.business.timezone;
		if (!s.slots) return '<p class="muted">Looking for free times…</p>';
		if (!s.slots.length) return '<p>No free times on this day. Try another day.</p>';
		const locs = new Set(s.slots.map((x) => x.location.id)).size > 1;
		return `<ul class="list" aria-label="Free times on ${esc(dayLabel(s.date))}">${s.slots.map((x, i) =>
			`<li><button type="button" data-act="slot" data-i="${i}">${clock(x.starts_at_local)} ${esc(zoneAbbr(x.starts_at, tz))}${locs ? ` · ${esc(x.location.name)}` : ''}</button></li>`).join('')}</ul>`;
	}

	#field(name, label, type = 'text', extra = '') {
		const s = this.s, err = s.errors[name], v = s.form[name] || '';
		const a = `id="f-${name}" name="${name}" ${err ? 'aria-invalid="true"' : ''} aria-describedby="err-${name}" ${extra}`;
		const input = type === 'textarea' ? `<textarea ${a} rows="3">${esc(v)}</textarea>`
			: type.startsWith('select:') ? `<select ${a}><option value="">Choose…</option>${type.slice(7).split('\u0001')
				.map((o) => `<option ${o === v ? 'selected' : ''}>${esc(o)}</option>`).join('')}</select>`
			: `<input type="${type}" ${a} value="${esc(v)}">`;
		return `<div class="field"><label for="f-${name}">${esc(label)}</label>${input}<span class="ferr" id="err-${name}">${esc(err)}</span></div>`;
	}

	#detailsHtml() {
		const s = this.s, h = s.hold;
		const cf = (s.service.custom_fields || []).map((c) => this.#field(`cf-${c.id}`,
			`${c.label}${c.required ? '' : ' (optional)'}`,
			c.type === 'select' ? `select:${c.options.join('\u0001')}` : c.type === 'textarea' ? 'textarea' : 'text'));
		return `<h3 data-focus tabindex="-1">Your details</h3>
<p>${esc(s.service.name)} · ${this.#whenHtml(h.slot.starts_at, h.slot.starts_at_local)} · ${esc(h.slot.location.name)}</p>
${this.#holdHtml()}
<form data-form="details" novalidate>
${this.#field('first_name', 'First name', 'text', 'autocomplete="given-name"')}
${this.#field('last_name', 'Last name', 'text', 'autocomplete="family-name"')}
${this.#field('email', 'Email', 'email', 'autocomplete="email"')}
${this.#field('phone', 'Phone (optional, such as +13125550100)', 'tel', 'autocomplete="tel"')}
${cf.join('')}
${this.#field('notes', 'Notes (optional)', 'textarea')}
<div class="row"><button type="button" data-act="back-slots">Back to times</button>
<button type="submit" class="primary">Continue</button></div></form>`;
	}

	#confirmHtml() {
		const s = this.s, h = s.hold, f = s.form;
		const cf = (s.service.custom_fields || []).filter((c) => (f[`cf-${c.id}`] || '').trim())
			.map((c) => `<dt>${esc(c.label)}</dt><dd>${esc(f[`cf-${c.id}`])}</dd>`).join('');
		return `<h3 data-focus tabindex="-1">Confirm your booking</h3>
${this.#holdHtml()}
<dl><dt>Service</dt><dd>${esc(s.service.name)}</dd>
<dt>When</dt><dd>${this.#whenHtml(h.slot.starts_at, h.slot.starts_at_local)}</dd>
<dt>Where</dt><dd>${esc(h.slot.location.name)}</dd>
<dt>With</dt><dd>${esc(h.staff ? h.staff.name : '')}</dd>
<dt>Name</dt><dd>${esc(`${f.first_name} ${f.last_name}`)}</dd>
<dt>Email</dt><dd>${esc(f.email)}</dd>${cf}</dl>
<div class="row"><button type="button" data-act="back-details">Change details</button>
<button type="button" class="primary" data-act="book">Confirm booking</button></div>`;
	}

	#doneHtml() {
		const b = this.s.booking;
		return `<h3 data-focus tabindex="-1">You're booked!</h3>
<p>${esc(b.service.name)} on ${this.#whenHtml(b.starts_at, b.starts_at_local)} at ${esc(b.location.name)}.</p>
${b.status === 'pending_payment' ? '<p>A deposit is due to confirm this booking; the business will be in touch.</p>' : ''}
<p class="muted">Booking reference: <span class="ref">${esc(b.id.slice(0, 8))}</span></p>
<button type="button" data-act="again">Book another time</button>`;
	}

	#schedule(fn, ms) {
		const id = setTimeout(fn, Math.max(10000, ms));
		this.#timers.add({ id, kind: 'session', clear: () => clearTimeout(id) });
	}

	#stopTimers(kind) {
		for (const t of this.#timers) {
			if (!kind || t.kind === kind) { t.clear(); this.#timers.delete(t); }
		}
	}
}

if (!customElements.get('calendence-widget')) customElements.define('calendence-widget', CalendenceWidget);
export { CalendenceWidget, VERSION };
