(function () {
  'use strict';
  var run = JSON.parse(document.getElementById('run-data').textContent);

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function ms(value) {
    return value < 1000 ? value + ' ms' : (value / 1000).toFixed(value < 10000 ? 2 : 1) + ' s';
  }
  // `worker2 stopped by kill (signal 9)`: what happened to a worker.
  function describe(worker, event) {
    var kind = event.kind;
    var exit = kind.code !== undefined && kind.code !== null ? ' (code ' + kind.code + ')'
      : kind.signal !== undefined && kind.signal !== null ? ' (signal ' + kind.signal + ')' : '';
    if (kind.kind === 'stopped') return worker + ' stopped by ' + kind.how + exit;
    if (kind.kind === 'exited') return worker + ' exited' + exit;
    return worker + ' ' + kind.kind;
  }
  // A name with a line break allowed after each `_` and `::`.
  function breakable(cls, name) {
    var node = el('span', cls);
    name.replace(/(_|::)/g, '$1\u0000').split('\u0000').forEach(function (part, i) {
      if (i) node.appendChild(document.createElement('wbr'));
      node.appendChild(document.createTextNode(part));
    });
    return node;
  }
  // A step that failed, or that a signal stopped (an "interrupted" outcome).
  function failedOutcome(outcome) {
    return outcome.kind === 'failed' || outcome.kind === 'interrupted';
  }
  // What a step that did not pass says: its error, skip reason or signal.
  function outcomeText(outcome) {
    if (outcome.kind === 'interrupted') return 'interrupted by ' + outcome.signal;
    return outcome.kind === 'failed' ? outcome.message : outcome.reason;
  }
  function outcomeClass(outcome) {
    return outcome.kind === 'passed' ? 'pass' : failedOutcome(outcome) ? 'fail' : 'skip';
  }
  // Ids, fragments and grid columns come with the data (see view.rs).
  var view = run.view;
  var layout = document.querySelector('.layout');
  var workerByName = {};
  run.workers.forEach(function (worker) { workerByName[worker.name] = worker; });
  var byId = {};
  var columnOf = {};
  var failures = [];
  view.columns.forEach(function (column, index) { columnOf[column.name] = index; });
  run.rounds.forEach(function (round, r) {
    round.steps.forEach(function (step, s) {
      var id = view.ids[r][s];
      byId[id] = { round: round, step: step, id: id };
      if (failedOutcome(step.outcome)) failures.push(byId[id]);
    });
  });
  // Older rounds of a long run keep their exchanges and log lines in a file
  // beside the page (see detail.rs), added as a script when first needed.
  var detailState = {};
  var roundOfDetail = {};
  run.rounds.forEach(function (round) {
    if (round.detail) roundOfDetail[round.detail] = round;
  });
  window.__prometheusTestDetail = function (name, detail) {
    var round = roundOfDetail[name];
    if (!round || !detail || detail.steps.length !== round.steps.length) return;
    round.steps.forEach(function (step, s) {
      step.exchanges = detail.steps[s].exchanges;
      step.log = detail.steps[s].log;
    });
    detailState[name] = 'loaded';
  };
  function detailPath(round) {
    return run.detail_folder + '/' + round.detail;
  }
  function loadDetail(round, then) {
    if (detailState[round.detail]) return;
    detailState[round.detail] = 'loading';
    var script = document.createElement('script');
    script.src = encodeURIComponent(run.detail_folder) + '/' + encodeURIComponent(round.detail);
    function done() {
      if (detailState[round.detail] !== 'loaded') detailState[round.detail] = 'failed';
      then();
    }
    script.onload = done;
    script.onerror = done;
    document.head.appendChild(script);
  }

  function entryOf(fragment) {
    return byId[fragment] || byId[view.aliases[fragment]];
  }

  function go(id) {
    location.hash = 'step=' + id;
  }

  // Failures first.
  var failureList = document.querySelector('#failures ul');
  if (failures.length === 0) {
    document.getElementById('failures').hidden = true;
  }
  failures.forEach(function (entry) {
    var item = el('li');
    var link = el('a', null, 'round ' + entry.round.number + ' · ' + entry.step.path + ' on ' + entry.step.worker);
    link.href = '#step=' + entry.id;
    item.appendChild(link);
    var first = outcomeText(entry.step.outcome).split('\n')[0];
    item.appendChild(el('span', null, ' — ' + first));
    failureList.appendChild(item);
  });

  // Rounds x steps grid.
  var grid = document.getElementById('grid');
  var head = el('tr');
  head.appendChild(el('th', null, 'round'));
  view.columns.forEach(function (column) {
    var th = el('th');
    th.title = column.title;
    th.appendChild(breakable('function', column.function));
    if (column.instance) th.appendChild(el('span', 'instance', column.instance));
    head.appendChild(th);
  });
  grid.tHead.appendChild(head);
  var cells = {};
  run.rounds.forEach(function (round, r) {
    var row = el('tr');
    row.dataset.round = round.number;
    row.appendChild(el('th', null, String(round.number)));
    var slots = view.columns.map(function () { return null; });
    round.steps.forEach(function (step, s) { slots[columnOf[step.path]] = { step: step, id: view.ids[r][s] }; });
    slots.forEach(function (slot) {
      var td;
      if (!slot) {
        td = el('td', 'cell none');
      } else {
        var step = slot.step;
        var id = slot.id;
        td = el('td', 'cell ' + outcomeClass(step.outcome), step.outcome.kind === 'skipped' ? 'skip' : ms(step.duration_ms));
        td.dataset.step = id;
        td.title = id + (step.outcome.kind === 'passed' ? '' : '\n' + outcomeText(step.outcome));
        td.addEventListener('click', go.bind(null, id));
        cells[id] = td;
      }
      row.appendChild(td);
    });
    grid.tBodies[0].appendChild(row);
  });

  // One timeline per round, drawn when opened.
  var timelines = document.getElementById('timelines');
  var rendered = {};
  var roundDetails = {};
  var bars = {};
  run.rounds.forEach(function (round, index) {
    var details = el('details', 'round');
    details.dataset.round = round.number;
    var summary = el('summary', null, 'Round ' + round.number + ' — ' + round.steps.length + ' steps');
    var failed = round.steps.filter(function (s) { return failedOutcome(s.outcome); }).length;
    if (failed) summary.appendChild(el('span', 'bad', ' · ' + failed + ' failed'));
    details.appendChild(summary);
    details.addEventListener('toggle', function () {
      if (details.open && !rendered[round.number]) {
        rendered[round.number] = true;
        details.appendChild(drawTimeline(round, index));
      }
    });
    roundDetails[round.number] = details;
    timelines.appendChild(details);
  });

  // The spans a worker was down (a step stopped it, until it started again)
  // or paused (until resumed); an open span lasts to the run's end.
  function gaps(events) {
    var found = [], open = {};
    events.forEach(function (event) {
      var kind = event.kind.kind;
      if (kind === 'stopped') open.stopped = event.at_ms;
      if (kind === 'paused') open.paused = event.at_ms;
      if (kind === 'started' && open.stopped !== undefined) {
        found.push({ kind: 'stopped', from: open.stopped, to: event.at_ms });
        delete open.stopped;
      }
      if ((kind === 'resumed' || kind === 'stopped') && open.paused !== undefined) {
        found.push({ kind: 'paused', from: open.paused, to: event.at_ms });
        delete open.paused;
      }
    });
    Object.keys(open).forEach(function (kind) {
      found.push({ kind: kind, from: open[kind], to: run.duration_ms });
    });
    return found;
  }

  function drawTimeline(round, index) {
    var box = el('div', 'timeline');
    var starts = round.steps.map(function (s) { return s.started_ms; });
    var from = index === 0 ? 0 : Math.min.apply(null, starts.length ? starts : [0]);
    var next = run.rounds[index + 1];
    var to = next && next.steps.length ? next.steps[0].started_ms : run.duration_ms;
    round.steps.forEach(function (s) { to = Math.max(to, s.started_ms + s.duration_ms); });
    var span = Math.max(1, to - from);
    function pct(at) { return (100 * (at - from) / span).toFixed(3) + '%'; }
    run.workers.forEach(function (worker) {
      var lane = el('div', 'lane');
      lane.dataset.worker = worker.name;
      lane.appendChild(el('span', 'lane-name', worker.name));
      var track = el('div', 'track');
      gaps(worker.events).forEach(function (gap) {
        var left = Math.max(gap.from, from), right = Math.min(gap.to, to);
        if (right < left) return;
        var band = el('span', 'gap ' + gap.kind);
        band.style.left = pct(left);
        band.style.width = (100 * (right - left) / span).toFixed(3) + '%';
        band.title = worker.name + ' ' + gap.kind + ' from ' + ms(gap.from) + ' to ' + ms(gap.to);
        track.appendChild(band);
      });
      worker.events.forEach(function (event) {
        if (event.at_ms < from || event.at_ms > to) return;
        var mark = el('span', 'event ' + event.kind.kind);
        mark.style.left = pct(event.at_ms);
        mark.title = describe(worker.name, event) + ' at ' + ms(event.at_ms);
        track.appendChild(mark);
      });
      // Faults on this worker, or on a link to or from it (see view.rs).
      (view.fault_marks || []).forEach(function (fault) {
        if (fault.worker !== worker.name || fault.at_ms < from || fault.at_ms > to) return;
        var mark = el('span', 'fault-mark');
        mark.style.left = pct(fault.at_ms);
        mark.title = 'fault: ' + fault.text + ' at ' + ms(fault.at_ms);
        track.appendChild(mark);
      });
      round.steps.forEach(function (step, s) {
        if (step.worker !== worker.name) return;
        var id = view.ids[index][s];
        var bar = el('div', 'bar ' + outcomeClass(step.outcome));
        bar.style.left = pct(step.started_ms);
        bar.style.width = (100 * step.duration_ms / span).toFixed(3) + '%';
        bar.title = step.path + ' · ' + ms(step.duration_ms);
        bar.dataset.step = id;
        bar.addEventListener('click', go.bind(null, id));
        bars[id] = bar;
        track.appendChild(bar);
      });
      lane.appendChild(track);
      box.appendChild(lane);
    });
    var axis = el('div', 'axis');
    axis.appendChild(el('span', null, ms(from)));
    axis.appendChild(el('span', null, ms(to)));
    box.appendChild(axis);
    return box;
  }

  // The step panel.
  var detail = document.getElementById('detail');
  function body(b) {
    if (b.kind === 'empty') return el('div', 'empty', '(empty body)');
    if (b.kind === 'binary') return el('div', 'empty', '(binary body, ' + b.total_bytes + ' bytes, ' + (b.content_type || 'no content type') + ')');
    var text = b.text;
    try { text = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { /* shown as sent */ }
    var pre = el('pre', 'mono', text);
    if (b.truncated) pre.appendChild(el('span', 'empty', '\n… cut: ' + b.total_bytes + ' bytes in all'));
    return pre;
  }
  function headers(list) {
    var table = el('table', 'headers mono');
    list.forEach(function (pair) {
      var row = el('tr');
      row.appendChild(el('td', null, pair[0]));
      row.appendChild(el('td', null, pair[1]));
      table.appendChild(row);
    });
    return table;
  }
  function exchangeNode(x, open) {
    var node = el('details', 'exchange');
    node.open = open;
    var summary = el('summary', 'mono');
    var status = x.status === null ? 'failed: ' + x.error : String(x.status);
    var good = x.status !== null && x.status < 400;
    summary.appendChild(el('span', 'status ' + (good ? 'ok' : 'bad'), status));
    // A worker's call to the outside world, and how the recording proxy answered it.
    if (x.origin) summary.appendChild(el('span', 'origin', ' ' + x.origin.worker + ' · ' + x.origin.handling.replace(/_/g, ' ')));
    summary.appendChild(document.createTextNode(' ' + x.method + ' ' + x.url + ' · ' + ms(x.duration_ms)));
    node.appendChild(summary);
    var inner = el('div', 'body');
    x.signatures.forEach(function (sig) {
      var box = el('div', 'payload');
      var who = sig.signer
        ? 'verified: signed by ' + (sig.signer.worker ? sig.signer.worker + ' (' + sig.signer.public_key + ')' : sig.signer.public_key)
        : 'not verified by any known key';
      box.appendChild(el('div', 'signer ' + (sig.signer ? 'verified' : 'unverified'), 'signed payload at ' + sig.location + ' — ' + who));
      box.appendChild(el('pre', 'mono', JSON.stringify(sig.payload, null, 2)));
      inner.appendChild(box);
    });
    inner.appendChild(el('h3', null, 'request'));
    inner.appendChild(headers(x.request.headers));
    inner.appendChild(body(x.request.body));
    if (x.response) {
      inner.appendChild(el('h3', null, 'response'));
      inner.appendChild(headers(x.response.headers));
      inner.appendChild(body(x.response.body));
    }
    node.appendChild(inner);
    return node;
  }
  // The starts, stops, kills, pauses and resumes a step made (see view.rs).
  function showWorkerChanges(id) {
    var changes = view.changes[id] || [];
    if (!changes.length) return;
    detail.appendChild(el('h3', null, 'Worker changes (' + changes.length + ')'));
    var list = el('ul', 'worker-events');
    changes.forEach(function (change) {
      var event = workerByName[change.worker].events[change.event];
      var item = el('li', 'event-' + event.kind.kind);
      item.appendChild(el('span', 'what', describe(change.worker, event)));
      item.appendChild(document.createTextNode(' at '));
      item.appendChild(el('span', 'at', ms(event.at_ms)));
      list.appendChild(item);
    });
    detail.appendChild(list);
  }
  // The faults a step's attempts met: when, where, the request, the fault.
  function showFaults(step) {
    var faults = step.faults || [];
    if (!faults.length) return;
    detail.appendChild(el('h3', null, 'Faults (' + faults.length + ')'));
    var table = el('table', 'faults');
    var head = el('tr');
    ['when', 'link or worker', 'request', 'fault'].forEach(function (name) { head.appendChild(el('th', null, name)); });
    table.appendChild(head);
    faults.forEach(function (fault) {
      var row = el('tr');
      row.appendChild(el('td', 'at', ms(fault.at_ms) + (fault.attempt ? ' · attempt ' + (fault.attempt + 1) : '')));
      row.appendChild(el('td', 'mono place', fault.link || fault.worker));
      row.appendChild(el('td', 'mono', fault.request || ''));
      var what = fault.fault + (fault.by === 'script' ? ' (scripted)' : '') + (fault.outcome ? ', ended ' + fault.outcome : '');
      row.appendChild(el('td', 'what', what));
      table.appendChild(row);
    });
    detail.appendChild(table);
  }
  var selected = [];
  // No step open: the panel goes and the grid takes the width.
  function closePanel() {
    selected.forEach(function (node) { node.classList.remove('selected'); });
    selected = [];
    layout.classList.remove('has-step');
    delete detail.dataset.step;
  }
  function show(fragment) {
    closePanel();
    layout.classList.add('has-step');
    var entry = entryOf(fragment);
    detail.textContent = '';
    if (!entry) {
      detail.appendChild(el('p', 'empty', 'No step ' + fragment + ' in this run.'));
      return;
    }
    var id = entry.id;
    var step = entry.step;
    var details = roundDetails[entry.round.number];
    if (!details.open) details.open = true;
    if (!rendered[entry.round.number]) {
      rendered[entry.round.number] = true;
      details.appendChild(drawTimeline(entry.round, run.rounds.indexOf(entry.round)));
    }
    [cells[id], bars[id]].forEach(function (node) {
      if (node) { node.classList.add('selected'); selected.push(node); }
    });
    // Bring the cell into the grid's view without moving the page.
    var wrap = document.querySelector('.grid-wrap');
    if (cells[id]) {
      var cell = cells[id].getBoundingClientRect();
      var box = wrap.getBoundingClientRect();
      wrap.scrollTop += cell.top - box.top - wrap.clientHeight / 2;
      wrap.scrollLeft += cell.left - box.left - wrap.clientWidth / 2;
    }
    detail.dataset.step = id;
    var close = el('a', 'close', '×');
    close.href = '#round=' + entry.round.number;
    close.title = 'Close the step (the grid takes the width)';
    detail.appendChild(close);
    detail.appendChild(el('h2', 'mono', step.path));
    var meta = el('div', 'meta');
    meta.appendChild(el('span', 'badge ' + outcomeClass(step.outcome), step.outcome.kind));
    meta.appendChild(document.createTextNode(' round ' + entry.round.number + ' · ' + step.worker + ' · ' + ms(step.duration_ms) + ' · started at ' + ms(step.started_ms)));
    detail.appendChild(meta);
    if (failedOutcome(step.outcome)) detail.appendChild(el('pre', 'error mono', outcomeText(step.outcome)));
    if (step.outcome.kind === 'skipped') detail.appendChild(el('p', 'empty', 'skipped: ' + step.outcome.reason));
    showWorkerChanges(id);
    showFaults(step);
    var round = entry.round;
    if (round.detail && detailState[round.detail] !== 'loaded') {
      if (detailState[round.detail] === 'failed') {
        detail.appendChild(el('p', 'empty', 'This step\'s HTTP exchanges and log are in ' + detailPath(round) +
          ', which cannot be read: keep the ' + run.detail_folder + ' folder beside this page.'));
      } else {
        detail.appendChild(el('p', 'empty', 'Loading the HTTP exchanges and log of round ' + round.number + '…'));
        loadDetail(round, function () {
          if (detail.dataset.step === id) show(fragment);
        });
      }
      return;
    }
    detail.appendChild(el('h3', null, 'HTTP exchanges (' + step.exchanges.length + ')'));
    var list = el('div', 'exchanges');
    step.exchanges.forEach(function (x, i) {
      list.appendChild(exchangeNode(x, failedOutcome(step.outcome) && i === step.exchanges.length - 1));
    });
    if (!step.exchanges.length) list.appendChild(el('div', 'empty', 'no requests'));
    detail.appendChild(list);
    detail.appendChild(el('h3', null, step.worker + ' log (' + step.log.length + (step.log.length === 1 ? ' line)' : ' lines)')));
    var log = el('pre', 'log mono');
    step.log.forEach(function (line) {
      log.appendChild(el('span', line.stream === 'stderr' ? 'err' : 'out', line.text + '\n'));
    });
    if (!step.log.length) log.textContent = '(nothing printed)';
    detail.appendChild(log);
  }

  function route() {
    var hash = decodeURIComponent(location.hash.replace(/^#/, ''));
    if (hash.indexOf('step=') === 0) {
      show(hash.slice(5));
    } else if (hash.indexOf('round=') === 0 && roundDetails[hash.slice(6)]) {
      closePanel();
      roundDetails[hash.slice(6)].open = true;
    } else if (failures.length) {
      show(failures[0].id);
    } else if (run.rounds.length) {
      roundDetails[run.rounds[0].number].open = true;
    }
  }
  window.addEventListener('hashchange', route);
  route();
  document.body.dataset.renderMs = String(Math.round(performance.now()));
  document.body.dataset.ready = 'true';
})();
