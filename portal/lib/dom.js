// Small DOM helpers. Text always goes in as text nodes, never as HTML, so values from the API
// cannot inject markup.

/**
 * Creates an element. `attributes` are set as attributes, except `on*` functions (event
 * listeners), `className`, and `false`/`null`/`undefined` values (skipped). `children` are
 * nodes or strings; nested arrays are flattened and empty values skipped.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === 'className') {
      element.className = value;
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(element, children);
  return element;
}

/** Appends `children` to `element`, skipping empty values as `h` does. */
export function append(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false || child === '') continue;
    if (Array.isArray(child)) {
      append(element, child);
    } else {
      element.append(child instanceof Node ? child : String(child));
    }
  }
}

/** Replaces the content of `element` with `children`. */
export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

/**
 * Shows a modal confirmation dialog and resolves to true when the user confirms. The native
 * `<dialog>` keeps focus inside, closes on Escape and returns focus to the opener.
 */
export function confirmDialog({ title, text, confirmLabel, cancelLabel }) {
  return new Promise((resolve) => {
    const titleId = `dialog-title-${Date.now()}`;
    const dialog = h('dialog', { className: 'dialog', 'aria-labelledby': titleId },
      h('h2', { id: titleId }, title),
      text ? h('p', {}, text) : null,
      h('div', { className: 'dialog-buttons' },
        h('button', { type: 'button', className: 'secondary', onclick: () => dialog.close('cancel') }, cancelLabel),
        h('button', { type: 'button', onclick: () => dialog.close('confirm') }, confirmLabel),
      ),
    );
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(dialog.returnValue === 'confirm');
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** Builds a block with an API error's message and what to do, announced as an alert. */
export function errorBlock(error, whatToDoLabel, title) {
  return h('div', { className: 'notice notice-error', role: 'alert' },
    title ? h('p', { className: 'notice-title' }, title) : null,
    h('p', {}, error.message),
    error.action ? h('p', {}, h('strong', {}, whatToDoLabel), ' ', error.action) : null,
  );
}

/** Builds a block with a success or progress text, announced politely (role=status). */
export function statusBlock(text, kind = 'success') {
  return h('div', { className: `notice notice-${kind}`, role: 'status' }, h('p', {}, text));
}
