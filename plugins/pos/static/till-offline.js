/* The till keeps selling when the network is gone (docs/sales-and-pos.md, "Offline selling").
 *
 * While online it keeps a copy of the register's catalogue on the device. Offline, the page's
 * cart (which lives on the server) is replaced by an offline cart priced with the sales
 * module's arithmetic (no discounts offline); each sale is queued on the device with its own
 * id (client_receipt_id) and the time it happened. Back online, the queue goes to the
 * server's batch sync, which records each sale once whatever is sent twice; refused sales
 * stay queued with the reason. Nothing here is needed while the network works.
 */
"use strict";

(() => {
  const root = document.getElementById("till-offline");
  if (!root) {
    return;
  }
  const keys = {
    catalogue: `tenantry.till.${root.dataset.register}.catalogue`,
    queue: `tenantry.till.${root.dataset.register}.queue`,
  };
  const section = document.getElementById("offline-till");
  const status = document.getElementById("offline-status");
  const queueNote = document.getElementById("till-queue");
  const sendButton = document.getElementById("till-send");
  const syncNote = document.getElementById("till-sync");
  const onlineOnly = document.querySelectorAll("[data-online-only]");
  const code = document.getElementById("offline-code");
  const tendered = document.getElementById("offline-tendered");
  let cart = []; // {product, quantity}
  let syncing = false;

  const read = (key, fallback) => {
    try {
      return JSON.parse(localStorage.getItem(key)) ?? fallback;
    } catch {
      return fallback;
    }
  };
  const write = (key, value) => localStorage.setItem(key, JSON.stringify(value));
  const MONEY = /^\d{1,12}(\.\d{1,2})?$/;

  // Money in cents as BigInt: exact, like the server's decimals.
  const cents = (text) => {
    const [whole, fraction = ""] = text.split(".");
    return BigInt(whole) * 100n + BigInt((fraction + "00").slice(0, 2));
  };
  const money = (amount) => `${amount / 100n}.${String(amount % 100n).padStart(2, "0")}`;
  // plugins/sales/pricing.py without discounts: gross = quantity x price; tax = gross x rate /
  // 100 rounded half up to the cent; total = gross + tax. Rates have two decimals.
  const lineTotal = (line) => {
    const gross = cents(line.product.price) * BigInt(line.quantity);
    const tax = (gross * cents(line.product.tax_rate) + 5000n) / 10000n;
    return gross + tax;
  };
  const cartTotal = () => cart.reduce((sum, line) => sum + lineTotal(line), 0n);

  const uuid4 = () => {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  };

  const say = (text) => {
    status.textContent = text;
  };
  const report = (text) => {
    syncNote.textContent = text;
  };

  const renderQueue = () => {
    const queue = read(keys.queue, []);
    const refused = queue.filter((sale) => sale.error);
    queueNote.hidden = queue.length === 0;
    sendButton.hidden = queue.length === 0 || !navigator.onLine;
    queueNote.textContent = queue.length === 0 ? "" :
      `${queue.length} sale(s) recorded offline wait to be sent.` +
      (refused.length ? ` Refused: ${refused[0].error}` : "");
  };

  const renderCart = () => {
    const body = document.getElementById("offline-lines");
    body.replaceChildren();
    cart.forEach((line, index) => {
      const row = body.insertRow();
      const name = document.createElement("th");
      name.scope = "row";
      name.textContent = line.product.name;
      row.append(name);
      row.insertCell().textContent = String(line.quantity);
      row.insertCell().textContent = money(lineTotal(line));
      const actions = row.insertCell();
      for (const [label, change] of [["+1", 1], ["−1", -1], ["Remove", -line.quantity]]) {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = label;
        button.setAttribute("aria-label", `${label === "Remove" ? "Remove" : label} ${line.product.name}`);
        button.addEventListener("click", () => {
          cart[index].quantity += change;
          cart = cart.filter((kept) => kept.quantity > 0);
          renderCart();
        });
        actions.append(button);
      }
    });
    document.getElementById("offline-total").textContent = money(cartTotal());
  };

  const showOffline = (offline) => {
    section.hidden = !offline;
    onlineOnly.forEach((element) => {
      element.hidden = offline;
    });
    if (offline) {
      const products = read(keys.catalogue, null);
      say(products ? "No connection: sales are kept on this device and sent when it is back." :
        "No connection, and no catalogue on this device yet: open the till once while online.");
      code.focus();
      renderCart();
    }
    renderQueue();
  };

  const find = (term) => {
    const products = read(keys.catalogue, { products: [] }).products;
    const exact = products.filter((p) => p.barcode === term || p.sku === term);
    if (exact.length) {
      return exact[0];
    }
    const named = products.filter((p) => p.name.toLowerCase().includes(term.toLowerCase()));
    return named.length === 1 ? named[0] : null;
  };

  document.getElementById("offline-scan").addEventListener("submit", (event) => {
    event.preventDefault();
    const term = code.value.trim();
    code.value = "";
    const product = term && find(term);
    if (!product) {
      say(`No single product matches "${term}" on this device.`);
      return;
    }
    const line = cart.find((kept) => kept.product.id === product.id);
    if (line) {
      line.quantity += 1;
    } else {
      cart.push({ product, quantity: 1 });
    }
    say(`${product.name} added.`);
    renderCart();
    code.focus();
  });

  document.getElementById("offline-pay").addEventListener("submit", (event) => {
    event.preventDefault();
    if (!cart.length) {
      say("Scan at least one product before recording the sale.");
      return;
    }
    const total = cartTotal();
    const method = section.querySelector("input[name=offline-method]:checked").value;
    const given = tendered.value.trim() || money(total);
    if (!MONEY.test(given)) {
      say("The amount given is a number with at most two decimals.");
      return;
    }
    if (method === "cash" && cents(given) < total) {
      say(`The amount given is less than the total (${money(total)}).`);
      return;
    }
    const paid = method === "cash" ? cents(given) : total;
    const sale = {
      client_receipt_id: uuid4(),
      occurred_at: new Date().toISOString(),
      lines: cart.map((line) => ({ product_id: line.product.id, quantity: String(line.quantity) })),
      payments: [{ method, amount: money(paid) }],
    };
    write(keys.queue, [...read(keys.queue, []), sale]);
    cart = [];
    tendered.value = "";
    renderCart();
    renderQueue();
    say(`Sale recorded on this device: total ${money(total)}, change ${money(paid - total)}.`);
    code.focus();
  });

  const sync = async () => {
    const queue = read(keys.queue, []);
    if (syncing || !queue.length || !navigator.onLine) {
      renderQueue();
      return;
    }
    syncing = true;
    try {
      const batch = queue.slice(0, 100).map(({ error, ...sale }) => sale);
      const answer = await fetch(root.dataset.syncUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json",
                   "X-CSRF-Token": root.dataset.csrf },
        body: JSON.stringify({ receipts: batch }),
      });
      if (!answer.ok || !(answer.headers.get("Content-Type") || "").includes("json")) {
        throw new Error(`the server answered ${answer.status}`);
      }
      const result = await answer.json();
      const recorded = new Set(result.results.filter((r) => r.status !== "failed")
        .map((r) => r.client_receipt_id));
      const refused = new Map(result.results.filter((r) => r.status === "failed")
        .map((r) => [r.client_receipt_id, r.message]));
      // Read the queue again: sales recorded while this request ran stay.
      write(keys.queue, read(keys.queue, [])
        .filter((sale) => !recorded.has(sale.client_receipt_id))
        .map((sale) => (refused.has(sale.client_receipt_id) ?
          { ...sale, error: refused.get(sale.client_receipt_id) } : sale)));
      root.dataset.synced = String(Number(root.dataset.synced || 0) + recorded.size);
      report(`${result.created} offline sale(s) recorded` +
        (result.replayed ? `, ${result.replayed} recorded already` : "") +
        (result.failed ? `, ${result.failed} refused (they stay on this device)` : "") + ".");
    } catch (error) {
      report(`Offline sales not sent yet (${error.message}); they stay on this device.`);
    } finally {
      syncing = false;
      renderQueue();
    }
  };

  const refreshCatalogue = async () => {
    try {
      const answer = await fetch(root.dataset.catalogueUrl, {
        credentials: "same-origin", headers: { Accept: "application/json" } });
      if (answer.ok && (answer.headers.get("Content-Type") || "").includes("json")) {
        write(keys.catalogue, await answer.json());
        root.dataset.catalogue = "ready";
      }
    } catch {
      // Offline already: keep the copy the device has.
    }
  };

  sendButton.addEventListener("click", () => sync());
  window.addEventListener("offline", () => showOffline(true));
  window.addEventListener("online", () => {
    showOffline(false);
    sync();
  });
  showOffline(!navigator.onLine);
  if (navigator.onLine) {
    refreshCatalogue();
    sync();
  }
  setInterval(sync, 30000);
})();
