'use strict';
// A node of the view tree (what page source, find, taps and screenshots share), with UiAutomator2's
// defaults. Its own module so that view.js and the parts it draws with (permissions.js, web.js) share it
// without requiring each other.
const {SCREEN} = require('./layout');

const FULL = [0, 0, SCREEN.width, SCREEN.height];

function node(props) {
  return {
    className: 'android.widget.FrameLayout', pkg: '', text: '', desc: '', hint: '', resourceId: '',
    checkable: false, checked: false, clickable: false, enabled: true, focusable: false, focused: false,
    longClickable: false, password: false, scrollable: false, selected: false, bounds: FULL,
    children: [], ...props,
  };
}

module.exports = {node, FULL};
