// Staff pages: start the NHS design system's components (header menu, error summary focus,
// buttons). A module file, because the Content-Security-Policy allows no inline script.
import { initAll } from '../vendor/nhsuk-frontend/nhsuk/nhsuk-frontend.min.js';

document.body.classList.add('js-enabled', 'nhsuk-frontend-supported');
initAll();
