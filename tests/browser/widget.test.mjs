// widget.test.mjs: <calendence-widget> in headless Chromium (Debian's), driven
// by puppeteer-core, against the real server of tests/run.sh (lighttpd, the
// worker, PostgreSQL). The business's web sites are served by this process
// on two origins of their own (WIDGET_SITE_PORT and +1); the widget's script
// comes from the API's origin through the shipped lighttpd.conf. Each step's
// screenshot goes to WIDGET_SCREENS. Run by node's test runner, one test at a
// time: node --test tests/browser/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';

const top = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const API = must('CALENDENCE_URL');
const SITE_PORT = Number(must('WIDGET_SITE_PORT'));
const SITE = `http://127.0.0.1:${SITE_PORT}`;
const SITE2 = `http://127.0.0.1:${SITE_PORT + 1}`;
const SCREENS = process.env.WIDGET_SCREENS || path.join(top, 'run/widget-screens');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const TZ = 'America/Chicago';
const LIMIT = 120000; // the most one test may take (the 429 test waits up to a minute)
const WEEK = JSON.stringify(Object.fromEntries(['monday', 'tuesday', 'wednesday', 'thursday',
	'friday', 'saturday', 'sunday'].map((d) => [d, ['08:00-18:00']])));

function must(name) {
	if (!process.env[name]) throw new Error(`${name} is not set (tests/run.sh sets it)`);
	return process.env[name];
}

// ---- the database and tokens ------------------------------------------------

// q: one value (or rows joined by newlines) of SQL run by psql; vars as :'name'
function q(sql, vars = {}) {
	const args = ['-XAtq', '-v', 'ON_ERROR_STOP=1'];
	for (const [k, v] of Object.entries(vars)) args.push('-v', `${k}=${v}`);
	return execFileSync('psql', args, { input: sql, encoding: 'utf8' }).trim();
}

// seen: a token for tests/secrets.sh, which looks for it in every file the run left
function seen(...tokens) {
	if (process.env.CALENDENCE_TOKEN_LOG) {
		fs.appendFileSync(process.env.CALENDENCE_TOKEN_LOG, tokens.map((t) => `${t}\n`).join(''));
	}
}

let plan; // a plan with room for every exchange and call of the suite

// shop: a business that takes bookings: a service or more (each 30 minutes),
// a location and a staff member open 'hours', a business key and a
// publishable key whose allowed_origins are 'origins' (none: any)
function shop({ planCode = plan, tz = TZ, hours = WEEK, services = ['Wash'], origins = [],
	fields = [] } = {}) {
	const tag = `${Date.now()}${Math.floor(Math.random() * 1e6)}`;
	const hub = q("SELECT calendence.create_hub('Widget Hub ' || :'t', :'p')", { t: tag, p: planCode });
	const biz = q("SELECT calendence.create_business(:'h', 'Widget Wash ' || :'t', :'z')",
		{ h: hub, t: tag, z: tz });
	const svc = services.map((name, i) => q(`INSERT INTO calendence.services (business_id, name,
	    duration_min, duration_max, rate, rate_type, custom_fields) VALUES (:'b', :'n', 30, 30,
	    2500, 'flat', :'f') RETURNING id`, { b: biz, n: name, f: JSON.stringify(i ? [] : fields) }));
	const loc = q("SELECT calendence.create_location(:'b', 'Main Shop', '1 Main St', NULL, :'h')",
		{ b: biz, h: hours });
	q("SELECT calendence.create_staff(:'b', 'Pat Doe', ARRAY[:'l'::uuid], '{}', :'h')",
		{ b: biz, l: loc, h: hours });
	const bizKey = q("SELECT calendence.issue_key('business', :'b', 'widget tests')", { b: biz });
	const pub = q("SELECT calendence.issue_key('publishable', :'b', 'widget tests')", { b: biz });
	seen(bizKey, pub);
	if (origins.length) {
		q(`UPDATE calendence.api_keys SET allowed_origins = string_to_array(:'o', ' ')
		    WHERE token_hash = calendence.token_hash(:'k')`, { o: origins.join(' '), k: pub });
	}
	const slug = q("SELECT slug FROM calendence.businesses WHERE id = :'b'", { b: biz });
	return { hub, biz, svc, loc, bizKey, pub, slug };
}

// apiGet: a GET of the API with a business key, as a server would
async function apiGet(key, p) {
	const r = await fetch(`${API}/api/v1${p}`, { headers: { Authorization: `Bearer ${key}` } });
	assert.equal(r.status, 200, `GET ${p}`);
	return r.json();
}

// chicagoDay: the business-local date 'days' from today
const chicagoDay = (days) => q("SELECT to_char((now() AT TIME ZONE :'z')::date + :'d'::int, 'YYYY-MM-DD')",
	{ z: TZ, d: days });

// ---- the business's web sites -------------------------------------------------

const pages = new Map(); // path -> HTML, served on both site origins
let site1, site2;

// page html from a template of widget/demo/ with its {{NAME}}s filled in
function fill(template, vars) {
	const t = fs.readFileSync(path.join(top, 'widget/demo', template), 'utf8');
	return t.replace(/\{\{([A-Z0-9_]+)\}\}/g, (_, k) => vars[k] ?? '');
}

function serve(port) {
	const srv = http.createServer((req, res) => {
		if (req.url === '/favicon.ico') return res.writeHead(204).end(); // none, and no 404 logged
		const html = pages.get(req.url.split('?')[0]);
		res.writeHead(html ? 200 : 404, { 'Content-Type': 'text/html; charset=utf-8',
			'Cache-Control': 'no-store' });
		res.end(html || 'not found');
	});
	return new Promise((ok, fail) => {
		srv.once('error', fail); // a port taken fails the suite, never hangs it
		srv.listen(port, '127.0.0.1', () => ok(srv));
	});
}

// ---- the browser ------------------------------------------------------------------

let browser;
let shot = 0;

before(async () => {
	fs.rmSync(SCREENS, { recursive: true, force: true });
	fs.mkdirSync(SCREENS, { recursive: true });
	plan = q(`INSERT INTO calendence.plans VALUES ('widget_' || to_char(now(), 'HH24MISSUS'),
	    true, 1000, 10000, 1000) RETURNING code`);
	site1 = await serve(SITE_PORT); // one at a time: after() closes what listens
	site2 = await serve(SITE_PORT + 1);
	browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true,
		args: ['--no-sandbox', '--lang=en-US', '--disable-gpu', '--disable-dev-shm-usage'],
		env: { ...process.env, TZ: 'UTC', LANG: 'en_US.UTF-8' } });
}, { timeout: LIMIT });

after(async () => {
	if (browser) await browser.close();
	site1?.close();
	site2?.close();
}, { timeout: LIMIT });

// open: a new tab on a page of the site; collects its console errors, the
// API's answers (status, path, headers) and the tokens of new sessions
async function open(url, { clock = false, intercept = null } = {}) {
	const page = await browser.newPage();
	await page.setViewport({ width: 900, height: 900 });
	page.errors = [];
	page.answers = [];
	page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
	page.on('pageerror', (e) => page.errors.push(`pageerror: ${e.message}`));
	page.on('response', async (r) => {
		const u = new URL(r.url());
		// the API's answers, not the preflights (OPTIONS) the browser sends before them
		if (!u.pathname.startsWith('/api/v1') || r.request().method() === 'OPTIONS') return;
		const a = { method: r.request().method(), path: u.pathname + u.search, status: r.status(),
			headers: r.headers(), reqHeaders: r.request().headers() };
		page.answers.push(a);
		if (a.method === 'POST' && u.pathname === '/api/v1/session' && a.status === 201) {
			try { seen((await r.json()).session_token); } catch { /* a body already gone */ }
		}
	});
	if (clock) {
		// the page's clock, which the test may move forward (as the
		// database's is moved for the hold): Date.now() is what the widget reads
		await page.evaluateOnNewDocument(() => {
			const real = Date.now.bind(Date);
			let skew = 0;
			Date.now = () => real() + skew;
			window.moveClock = (ms) => { skew += ms; };
		});
	}
	if (intercept) {
		await page.setRequestInterception(true);
		page.on('request', (r) => intercept(r));
	}
	await page.goto(url, { waitUntil: 'load' });
	return page;
}

// screen: a screenshot of the step, run/widget-screens/NN-name.png
async function screen(page, name) {
	shot += 1;
	await page.screenshot({ path: path.join(SCREENS, `${String(shot).padStart(2, '0')}-${name}.png`),
		fullPage: true });
}

// w: a handle on the widget 'sel' of the page, with what the tests read and do in it
function w(page, sel = 'calendence-widget') {
	const inShadow = (fn, ...args) => page.$eval(sel, fn, ...args);
	return {
		text: () => inShadow((el) => el.shadowRoot.querySelector('.cw').innerText),
		msg: () => inShadow((el) => el.shadowRoot.querySelector('.msg').textContent),
		buttons: () => inShadow((el) => [...el.shadowRoot.querySelectorAll('button')].map((b) => b.textContent.trim())),
		slots: () => inShadow((el) => [...el.shadowRoot.querySelectorAll('button[data-act="slot"]')]
			.map((b) => b.textContent.trim())),
		select: (name, v) => page.$eval(sel, (el, n, val) => {
			const f = el.shadowRoot.querySelector(`[name="${n}"]`);
			f.value = val;
			f.dispatchEvent(new Event('change', { bubbles: true }));
		}, name, v),
		slotsDate: () => inShadow((el) => el.shadowRoot.querySelector('.slots').dataset.date),
		value: (name) => inShadow((el, n) => el.shadowRoot.querySelector(`[name="${n}"]`).value, name),
		fieldError: (name) => inShadow((el, n) => el.shadowRoot.getElementById(`err-${n}`).textContent, name),
		// waitText: until the widget shows 'want' (a string or a RegExp)
		waitText: (want, timeout = 15000) => page.waitForFunction((s, src, flags) => {
			const el = document.querySelector(s);
			const t = el && el.shadowRoot && el.shadowRoot.querySelector('.cw')?.innerText;
			return t && new RegExp(src, flags).test(t);
		}, { timeout, polling: 100 }, sel, want instanceof RegExp ? want.source : escRe(want),
		want instanceof RegExp ? want.flags : '').catch(async (e) => {
			const now = await page.$eval(sel, (el) => el.shadowRoot?.querySelector('.cw')?.innerText)
				.catch(() => '(no widget)');
			throw new Error(`waited for ${want}; the widget shows:\n${now}\n${e.message}`);
		}),
		// click: the widget's button whose text starts with 'label'
		// (found and clicked in the page at once: a list redrawn in between
		// would leave a stale button)
		click: (label) => page.waitForFunction((s, l) => {
			const b = [...document.querySelector(s).shadowRoot.querySelectorAll('button')]
				.find((x) => x.textContent.trim().startsWith(l) && !x.disabled);
			if (b) b.click();
			return !!b;
		}, { timeout: 15000, polling: 100 }, sel, label),
		type: async (name, text) => {
			const f = await page.evaluateHandle((s, n) => document.querySelector(s).shadowRoot
				.querySelector(`[name="${n}"]`), sel, name);
			await f.asElement().click({ clickCount: 3 });
			await f.asElement().type(text);
		},
		// date: the date typed into the date field, month day year, as in en-US
		date: async (d) => {
			const f = await page.waitForFunction((s) => document.querySelector(s).shadowRoot
				?.querySelector('input[name="date"]'), { timeout: 15000, polling: 100 }, sel);
			await f.asElement().focus(); // its first part, the month
			await f.asElement().type(`${d.slice(5, 7)}${d.slice(8, 10)}${d.slice(0, 4)}`);
			await page.waitForFunction((s, day) => document.querySelector(s).shadowRoot
				.querySelector('.slots')?.dataset.date === day, { timeout: 15000, polling: 100 }, sel, d);
		},
	};
}
const escRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// noErrors: nothing the page's console called an error
function noErrors(page, allowed = []) {
	const left = page.errors.filter((e) => !allowed.some((a) => a.test(e)));
	assert.deepEqual(left, [], 'console errors');
}

// bookings of a business, by its key
async function bookingsOf(s) {
	return (await apiGet(s.bizKey, '/bookings?per_page=50')).data;
}

// widgetFor: a page of the first site with one widget of shop s
function widgetPage(name, s, attrs = `service-id="${s.svc[0]}"`) {
	pages.set(`/${name}`, `<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>${name}</title><script type="module" src="${API}/widget/calendence-widget.js?v=1"></script></head>
<body><h1>${name}</h1><calendence-widget key="${s.pub}" ${attrs}>
<a href="${API}/book/${s.slug}">Book Now</a></calendence-widget></body></html>`);
	return `${SITE}/${name}`;
}

// details: the client's details typed in
async function details(x, first = 'Dana', email = 'dana@example.com') {
	await x.type('first_name', first);
	await x.type('last_name', 'Reyes');
	await x.type('email', email);
}

// ---- the tests ------------------------------------------------------------------

test('the full flow on the demo page ends in a booking that GET /bookings lists', { timeout: LIMIT }, async () => {
	// the demo tenant (sql/demo.sql) with new keys, its publishable key
	// allowed on the site's origin, as make run sets it
	const env = Object.fromEntries(execFileSync(must('ADMIN'), ['demo', '--dir', path.join(top, 'sql')],
		{ encoding: 'utf8' }).trim().split('\n').map((l) => l.split('=')));
	seen(env.DEMO_HUB_KEY, env.DEMO_BIZ_KEY, env.DEMO_PUB_KEY);
	q(`UPDATE calendence.api_keys SET allowed_origins = ARRAY[:'o']
	    WHERE token_hash = calendence.token_hash(:'k')`, { o: SITE, k: env.DEMO_PUB_KEY });
	pages.set('/', fill('index.html', { API, KEY: env.DEMO_PUB_KEY, SLUG: 'demo-auto-detail' }));
	const page = await open(`${SITE}/`);
	const x = w(page);
	await x.waitText('Choose a service');
	assert.match(await x.text(), /Book with Demo Auto Detail/);
	// the business's active services, as the API lists them (other checks
	// of make check may have changed the demo tenant's)
	const services = (await apiGet(env.DEMO_BIZ_KEY, '/services?per_page=50')).data;
	const names = services.map((v) => v.name);
	// its custom fields, as the API has them (sql/demo.sql gives it "vehicle")
	const fields = services.find((v) => v.name === 'Interior Detail').custom_fields;
	const values = Object.fromEntries(fields.map((c, i) => [c.id,
		c.type === 'select' ? c.options[0] : `2019 Honda Civic ${i}`]));
	assert.ok(names.includes('Interior Detail') && !names.includes('Winter Special'), names.join());
	assert.deepEqual((await x.buttons()).map((b) => b.split('\n')[0]), names);
	await screen(page, 'service');

	await x.click('Interior Detail');
	await x.waitText('Interior Detail: choose a date and time');
	// the next Tuesday at least two days ahead: Alex and Sam both work
	const day = q(`SELECT to_char(d, 'YYYY-MM-DD') FROM generate_series(
	    (now() AT TIME ZONE 'America/Chicago')::date + 2, (now() AT TIME ZONE 'America/Chicago')::date + 8,
	    '1 day') d WHERE extract(isodow FROM d) = 2`);
	await x.date(day);
	// the demo tenant outlives a run: a day booked full by earlier runs
	// (make run's database) is passed over
	for (let i = 0; i < 7 && !(await x.slots()).length; i++) {
		const was = await x.slotsDate();
		await x.click('Next day');
		await page.waitForFunction((d) => document.querySelector('calendence-widget').shadowRoot
			.querySelector('.slots').dataset.date > d, { timeout: 15000 }, was);
	}
	await x.waitText(/\d:\d\d [AP]M C[SD]T/);
	assert.doesNotMatch(await x.msg(), /Choose a date/);
	assert.match(await x.text(), /Times are in the business's time zone, America\/Chicago/);
	await screen(page, 'date-and-slots');

	const slot = (await x.slots())[0];
	const booked = await x.slotsDate();
	await x.click(slot);
	await x.waitText('Your details');
	assert.match(await x.text(), /We hold this time for you for (10:00|9:5\d)/);
	for (const c of fields) assert.match(await x.text(), new RegExp(escRe(c.label))); // its custom fields
	// a first name the browser takes but the server finds blank (U+200B):
	// the server's 422 shows next to its field, and nothing typed is lost
	const email = `dana.${Date.now()}@example.com`; // the demo tenant outlives one run
	await details(x, '\u200B', email);
	for (const c of fields) {
		if (c.type === 'select') await x.select(`cf-${c.id}`, values[c.id]);
		else await x.type(`cf-${c.id}`, values[c.id]);
	}
	await x.type('notes', 'Blue sedan, north lot.');
	await screen(page, 'details');
	await x.click('Continue');
	await x.waitText('Confirm your booking');
	await screen(page, 'confirm');
	await x.click('Confirm booking');
	await x.waitText('Your details');
	assert.match(await x.fieldError('first_name'), /first_name|blank|required/i);
	assert.equal(await x.value('email'), email);
	for (const c of fields) assert.equal(await x.value(`cf-${c.id}`), values[c.id]);
	assert.equal(await x.value('notes'), 'Blue sedan, north lot.');
	await screen(page, 'details-error');
	await x.type('first_name', 'Dana');
	await x.click('Continue');
	await x.click('Confirm booking');
	await x.waitText("You're booked!");
	await screen(page, 'booked');

	const list = (await apiGet(env.DEMO_BIZ_KEY, `/bookings?from=${booked}&to=${booked}&per_page=50`)).data
		.filter((b) => b.client.email === email);
	assert.equal(list.length, 1);
	assert.equal(list[0].service.name, 'Interior Detail');
	const svc = services.find((v) => v.name === 'Interior Detail');
	assert.equal(list[0].status, svc.deposit_type === 'none' ? 'confirmed' : 'pending_payment');
	assert.equal(list[0].client.first_name, 'Dana');
	assert.deepEqual(list[0].custom_field_values, values);
	assert.ok(slot.startsWith(clock12(list[0].starts_at_local)), `${slot} vs ${list[0].starts_at_local}`);
	assert.match(await x.text(), new RegExp(`Booking reference: ${list[0].id.slice(0, 8)}`));
	// every booking POST carried an Idempotency-Key
	for (const a of page.answers.filter((v) => v.method === 'POST' && v.path.startsWith('/api/v1/bookings'))) {
		assert.match(a.reqHeaders['idempotency-key'] || '', /^[0-9a-f-]{36}$/);
	}
	noErrors(page, [/status of 422/]);
	await page.close();
});

// clock12: "9:30 AM" from "…T09:30:00", as a person reads the local time
function clock12(local) {
	const [h, m] = local.slice(11, 16).split(':').map(Number);
	return `${h % 12 || 12}:${String(m).padStart(2, '0')} ${h < 12 ? 'AM' : 'PM'}`;
}

test('the hold counts down; lapsed, it sends the client back to the slots, typed details kept', { timeout: LIMIT }, async () => {
	const s = shop();
	const page = await open(widgetPage('hold', s), { clock: true });
	const x = w(page);
	await x.date(chicagoDay(3));
	await x.waitText('10:00 AM');
	await x.click('10:00 AM');
	await x.waitText('Your details');
	const t0 = await page.$eval('calendence-widget', (el) => el.shadowRoot.querySelector('.timer').textContent);
	const secs = (t) => t.split(':').reduce((m, v) => m * 60 + Number(v), 0);
	assert.ok(secs(t0) >= 597 && secs(t0) <= 600, t0);
	// it counts down: two seconds less within a few (the page's ticks are
	// late on a loaded machine, never skipped)
	await page.waitForFunction((want) => {
		const t = document.querySelector('calendence-widget').shadowRoot.querySelector('.timer').textContent;
		return t.split(':').reduce((m, v) => m * 60 + Number(v), 0) <= want;
	}, { timeout: 10000 }, secs(t0) - 2);
	const t1 = await page.$eval('calendence-widget', (el) => el.shadowRoot.querySelector('.timer').textContent);
	assert.ok(secs(t0) - secs(t1) >= 2 && secs(t0) - secs(t1) <= 12, `${t0} then ${t1}`);
	await x.type('first_name', 'Kept');
	// ten minutes pass: the hold lapses in the database and on the page
	q(`UPDATE calendence.reservations SET expires_at = now() - interval '1 second'
	    WHERE business_id = :'b' AND status = 'held'`, { b: s.biz });
	await page.evaluate(() => window.moveClock(10 * 60 * 1000));
	await x.waitText('Your hold on that time ran out');
	await x.waitText('10:00 AM');
	await screen(page, 'hold-expired');
	// the server lets the hold lapse while the page still counts: the
	// booking's 409 hold_expired also sends the client back
	await x.click('10:00 AM');
	await x.waitText('Your details');
	assert.equal(await x.value('first_name'), 'Kept');
	await details(x, 'Kept');
	await x.click('Continue');
	await x.waitText('Confirm your booking');
	q(`UPDATE calendence.reservations SET expires_at = now() - interval '1 second'
	    WHERE business_id = :'b' AND status = 'held'`, { b: s.biz });
	await x.click('Confirm booking');
	await x.waitText('Your hold on that time ran out');
	assert.ok(page.answers.some((a) => a.path === '/api/v1/bookings' && a.status === 409));
	assert.equal((await bookingsOf(s)).length, 0);
	noErrors(page, [/status of 409/]);
	await page.close();
});

test('going back releases the hold', { timeout: LIMIT }, async () => {
	const s = shop();
	const page = await open(widgetPage('back', s));
	const x = w(page);
	await x.date(chicagoDay(3));
	await x.click('10:00 AM');
	await x.waitText('Your details');
	const held = () => q(`SELECT count(*) FROM calendence.reservations WHERE business_id = :'b'
	    AND status = 'held' AND expires_at > now()`, { b: s.biz });
	assert.equal(held(), '1');
	await x.click('Back to times');
	await x.waitText('10:00 AM');
	await page.waitForFunction(() => true, { timeout: 500 }).catch(() => {});
	for (let i = 0; i < 50 && held() !== '0'; i++) await new Promise((r) => setTimeout(r, 100));
	assert.equal(held(), '0');
	assert.ok(page.answers.some((a) => a.method === 'DELETE' && a.status === 204));
	noErrors(page);
	await page.close();
});

test('the session is refreshed before it ends, in the middle of the flow', { timeout: LIMIT }, async () => {
	const s = shop();
	const page = await open(widgetPage('refresh', s), { clock: true });
	const x = w(page);
	await x.date(chicagoDay(4));
	// 56 minutes later the session has 4 left: the hold's call refreshes it first
	await page.evaluate(() => window.moveClock(56 * 60 * 1000));
	await x.click('10:00 AM');
	await x.waitText('Your details');
	await details(x);
	await x.click('Continue');
	await x.waitText('Confirm your booking');
	await x.click('Confirm booking');
	await x.waitText("You're booked!");
	const sessions = page.answers.filter((a) => a.path === '/api/v1/session');
	assert.deepEqual(sessions.map((a) => a.status), [201, 201]);
	// the refresh was made with the session token, not the key again; the
	// hold and the booking with the new token (compared, never printed)
	const auth = (p) => page.answers.find((a) => a.path.startsWith(p)).reqHeaders.authorization;
	assert.ok(/^Bearer cal_pub_/.test(sessions[0].reqHeaders.authorization), 'exchanged with the key');
	assert.ok(/^Bearer cal_ses_/.test(sessions[1].reqHeaders.authorization), 'refreshed with the session');
	assert.ok(sessions[1].reqHeaders.authorization === auth('/api/v1/availability'), 'the first session refreshed');
	assert.ok(auth('/api/v1/bookings/hold') !== auth('/api/v1/availability'), 'the hold with the new session');
	assert.equal(page.answers.find((a) => a.path === '/api/v1/bookings').status, 201);
	// one chain: the refreshed session belongs to the first one's
	assert.equal(q(`SELECT count(*) || ' ' || count(DISTINCT coalesce(root_session_id, id))
	    FROM calendence.sessions WHERE business_id = :'b'`, { b: s.biz }), '2 1');
	assert.equal((await bookingsOf(s)).length, 1);
	noErrors(page);
	await page.close();
});

test('a 429 shows its Retry-After in words, then the widget tries again', { timeout: LIMIT }, async () => {
	// a plan of 3 calls a minute: the service, two days of slots, then 429
	const tiny = q(`INSERT INTO calendence.plans VALUES ('widget_tiny_' || to_char(now(), 'HH24MISSUS'),
	    true, 3, 1000, 1000) RETURNING code`);
	const s = shop({ planCode: tiny });
	// the minute window is clock-aligned: all four calls in one minute
	while (new Date().getSeconds() >= 45) await new Promise((r) => setTimeout(r, 500));
	const page = await open(widgetPage('ratelimit', s));
	const x = w(page);
	await x.waitText('choose a date and time');
	await x.click('Next day');
	await x.waitText(/No free times|AM/);
	await x.click('Next day');
	await x.waitText(/Too many requests right now\. Trying again in \d+ s/);
	const r429 = page.answers.find((a) => a.status === 429);
	assert.ok(r429, 'a 429 reached the page');
	const after = Number(r429.headers['retry-after']);
	assert.ok(after >= 1 && after <= 60, `Retry-After ${after}`);
	assert.match(await x.msg(), new RegExp(`Trying again in (${after}|${after - 1}) s`));
	await screen(page, 'rate-limited');
	// after the wait, the same call again, answered
	await page.waitForFunction(() => true, { timeout: 10 }).catch(() => {});
	await x.waitText(/\d:\d\d [AP]M|No free times/, (after + 10) * 1000);
	const last = page.answers.filter((a) => a.path.startsWith('/api/v1/availability')).pop();
	assert.equal(last.status, 200);
	assert.equal(await x.msg(), '');
	noErrors(page, [/status of 429/]);
	await page.close();
});

test('an origin the key does not allow: the words, and the fallback link', { timeout: LIMIT }, async () => {
	const s = shop({ origins: ['https://shop.example'] });
	const page = await open(widgetPage('origin', s));
	const x = w(page);
	await x.waitText('Online booking is not enabled for this web site');
	const a = page.answers.find((v) => v.path === '/api/v1/session');
	assert.equal(a.status, 403);
	// the answer was readable across origins: CORS on an error too
	assert.equal(a.headers['access-control-allow-origin'], SITE);
	const link = await page.$eval('calendence-widget', (el) => el.shadowRoot.querySelector('a').href);
	assert.equal(link, `${API}/book/${s.slug}`);
	await screen(page, 'origin-not-allowed');
	noErrors(page, [/status of 403/]);
	await page.close();
});

test('two widgets on a page of another origin book independently', { timeout: LIMIT }, async () => {
	const s = shop({ services: ['Wash', 'Wax'], origins: [SITE2] });
	pages.set('/two', fill('two.html', { API, KEY: s.pub, SLUG: s.slug, SERVICE1: s.svc[0], SERVICE2: s.svc[1] }));
	const page = await open(`${SITE2}/two`);
	const a = w(page, '#first'), b = w(page, '#second');
	const day = chicagoDay(5);
	await a.date(day);
	await b.date(day);
	await a.waitText('10:00 AM');
	await b.waitText('10:00 AM');
	await a.click('10:00 AM');
	await a.waitText('Your details');
	// one staff member: the first widget's hold took 10:00 from the second
	await b.click('Next day');
	await b.click('Previous day');
	await b.waitText('10:30 AM');
	assert.ok(!(await b.slots()).includes('10:00 AM CST') && !(await b.slots()).includes('10:00 AM CDT'));
	await b.click('10:30 AM');
	await b.waitText('Your details');
	await details(a, 'Ann');
	await details(b, 'Bob');
	await screen(page, 'two-widgets');
	await b.click('Continue');
	await b.click('Confirm booking');
	await b.waitText("You're booked!");
	assert.match(await a.text(), /Your details/); // the first one where it was
	await a.click('Continue');
	await a.click('Confirm booking');
	await a.waitText("You're booked!");
	const list = await bookingsOf(s);
	assert.deepEqual(list.map((v) => `${v.client.first_name} ${v.service.name} ${v.starts_at_local.slice(11, 16)}`).sort(),
		['Ann Wash 10:00', 'Bob Wax 10:30']);
	// each its own session chain
	assert.equal(page.answers.filter((v) => v.path === '/api/v1/session').length, 2);
	const auths = new Set(page.answers.filter((v) => v.path === '/api/v1/bookings')
		.map((v) => v.reqHeaders.authorization));
	assert.equal(auths.size, 2);
	assert.ok(page.answers.every((v) => v.headers['access-control-allow-origin'] === SITE2));
	noErrors(page);
	await page.close();
});

test('the script cannot load: the fallback link is there and works', { timeout: LIMIT }, async () => {
	const s = shop();
	const url = widgetPage('blocked', s);
	const page = await open(url, { intercept: (r) => (r.url().includes('/widget/') ? r.abort('blockedbyclient')
		: r.continue()) });
	assert.equal(await page.evaluate(() => !!customElements.get('calendence-widget')), false);
	const link = await page.$('calendence-widget a');
	assert.equal(await link.evaluate((el) => el.textContent), 'Book Now');
	assert.equal(await link.evaluate((el) => el.href), `${API}/book/${s.slug}`);
	assert.ok(await link.isVisible());
	await screen(page, 'fallback');
	// keyboard-reachable, and it leads to the business's booking page
	await page.keyboard.press('Tab');
	assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Book Now');
	await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
	assert.equal(page.url(), `${API}/book/${s.slug}`);
	await page.close();
});

test('a network error during POST /bookings: retried with the same Idempotency-Key, one booking', { timeout: LIMIT }, async () => {
	const s = shop();
	const sent = [];
	// the first POST /bookings reaches the server (the test sends it on),
	// but its answer never reaches the page: the connection is reset
	const intercept = async (r) => {
		if (r.method() === 'POST' && new URL(r.url()).pathname === '/api/v1/bookings') {
			sent.push(r.headers()['idempotency-key']);
			if (sent.length === 1) {
				const res = await fetch(r.url(), { method: 'POST', body: r.postData(), headers: r.headers() });
				sent.first = res.status;
				return r.abort('connectionreset');
			}
		}
		return r.continue();
	};
	const page = await open(widgetPage('network', s), { intercept });
	const x = w(page);
	await x.date(chicagoDay(6));
	await x.click('10:00 AM');
	await x.waitText('Your details');
	await details(x);
	await x.click('Continue');
	await x.click('Confirm booking');
	await x.waitText("You're booked!");
	assert.equal(sent.first, 201);
	assert.equal(sent.length, 2);
	assert.equal(sent[0], sent[1]);
	const replay = page.answers.find((a) => a.path === '/api/v1/bookings');
	assert.equal(replay.status, 201);
	assert.equal(replay.headers['idempotent-replayed'], 'true');
	assert.equal((await bookingsOf(s)).length, 1);
	noErrors(page, [/ERR_CONNECTION_RESET/]);
	await page.close();
});

test('a booking made with the keyboard alone; every control labelled', { timeout: LIMIT }, async () => {
	const s = shop({ services: ['Wash', 'Wax'], fields: [{ id: 'plate', label: 'Licence plate', type: 'text',
		required: true, options: [] }] });
	const page = await open(widgetPage('keyboard', s, ''));
	const x = w(page);
	await x.waitText('Choose a service');
	// focus: the deepest active element, through shadow roots
	const focused = () => page.evaluate(() => {
		let a = document.activeElement;
		while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
		return a ? `${a.tagName} ${a.getAttribute('name') || ''} ${a.textContent.trim().split('\n')[0]}` : '';
	});
	const tabTo = async (want) => {
		for (let i = 0; i < 60; i++) {
			if ((await focused()).includes(want)) return;
			await page.keyboard.press('Tab');
		}
		assert.fail(`Tab never reached ${want}; at ${await focused()}`);
	};
	await tabTo('Wash');
	await page.keyboard.press('Enter');
	await x.waitText('Wash: choose a date and time');
	await tabTo('INPUT date');
	const day = chicagoDay(7);
	await page.keyboard.type(`${day.slice(5, 7)}${day.slice(8, 10)}${day.slice(0, 4)}`);
	await x.waitText('11:00 AM');
	await tabTo('11:00 AM');
	await page.keyboard.press('Enter');
	await x.waitText('Your details');
	for (const [f, v] of [['first_name', 'Kim'], ['last_name', 'Park'], ['email', 'kim@example.com'],
		['cf-plate', 'ABC 123']]) {
		await tabTo(`INPUT ${f}`);
		await page.keyboard.type(v);
	}
	const unlabelled = await page.$eval('calendence-widget', (el) => [...el.shadowRoot
		.querySelectorAll('input, select, textarea')].filter((f) => !f.labels.length).map((f) => f.name));
	assert.deepEqual(unlabelled, []);
	await tabTo('Continue');
	await page.keyboard.press('Enter');
	await x.waitText('Confirm your booking');
	await tabTo('Confirm booking');
	await page.keyboard.press(' ');
	await x.waitText("You're booked!");
	const list = await bookingsOf(s);
	assert.equal(list.length, 1);
	assert.equal(list[0].client.email, 'kim@example.com');
	assert.deepEqual(list[0].custom_field_values, { plate: 'ABC 123' });
	assert.equal(list[0].starts_at_local, `${day}T11:00:00`);
	noErrors(page);
	await page.close();
});

test('DST: on the spring-forward day the times shown are the API\'s starts_at_local', { timeout: LIMIT }, async () => {
	// the next day on which Chicago moves its clocks forward
	const day = q(`SELECT to_char(d, 'YYYY-MM-DD') FROM (SELECT generate_series(a + 1, a + 179,
	    interval '1 day')::date AS d FROM (SELECT (now() AT TIME ZONE :'z')::date AS a) t) days
	    WHERE (d + 1)::timestamp AT TIME ZONE :'z' - d::timestamp AT TIME ZONE :'z' = interval '23 hours'
	    ORDER BY d LIMIT 1`, { z: TZ });
	assert.match(day, /^\d{4}-03-\d\d$/);
	const night = JSON.stringify(Object.fromEntries(['monday', 'tuesday', 'wednesday', 'thursday',
		'friday', 'saturday', 'sunday'].map((d) => [d, ['00:00-06:00']])));
	const s = shop({ hours: night });
	const page = await open(widgetPage('dst', s));
	const x = w(page);
	await x.date(day);
	await x.waitText('3:00 AM CDT');
	const api = (await apiGet(s.bizKey, `/availability?service_id=${s.svc[0]}&date_from=${day}&date_to=${day}`))
		.data[day];
	// CST is 6 hours behind UTC, CDT 5: the zone each slot is in, from the API's two times
	const want = api.map((v) => {
		const off = (Date.parse(`${v.starts_at_local}Z`) - Date.parse(v.starts_at)) / 3600000;
		return `${clock12(v.starts_at_local)} ${off === -6 ? 'CST' : 'CDT'}`;
	});
	const shown = await x.slots();
	assert.deepEqual(shown, want);
	assert.ok(shown.includes('1:30 AM CST') && shown.includes('3:00 AM CDT'));
	assert.ok(!shown.some((v) => v.startsWith('2:')), 'no slot in the hour that does not exist');
	await screen(page, 'dst');
	noErrors(page);
	await page.close();
});
