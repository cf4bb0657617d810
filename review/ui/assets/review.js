// Keyboard shortcuts of the review UI; every action also works without them (and without JavaScript).
// j/k move through the queue, Enter opens, / searches, a/r/e decide the open payout, ? shows the help.
(() => {
  const typing = (el) =>
    el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT');
  const rows = () => [...document.querySelectorAll('tr[data-row]')];
  let current = -1;
  const select = (index) => {
    const all = rows();
    if (all.length === 0) return;
    current = Math.max(0, Math.min(all.length - 1, index));
    for (const [i, row] of all.entries()) row.classList.toggle('selected', i === current);
    all[current].querySelector('a')?.focus();
  };
  const decide = (value) => {
    const button = document.querySelector(`form.decide button[value="${value}"]`);
    if (!button) return;
    const note = document.getElementById('note');
    if (value !== 'approve' && note && note.value.trim() === '') {
      note.focus();
      return;
    }
    button.click();
  };
  document.addEventListener('keydown', (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const help = document.getElementById('help');
    if (event.key === 'Escape' && help?.open) return;
    if (typing(document.activeElement)) return;
    switch (event.key) {
      case 'j':
        select(current + 1);
        break;
      case 'k':
        select(current - 1);
        break;
      case '/': {
        const search = document.getElementById('f-affiliate');
        if (!search) return;
        search.focus();
        break;
      }
      case 'a':
        decide('approve');
        break;
      case 'r':
        decide('reject');
        break;
      case 'e':
        decide('escalate');
        break;
      case '?':
        if (help) help.open ? help.close() : help.showModal();
        break;
      default:
        return;
    }
    event.preventDefault();
  });
})();
