// The types of uPlot's ES module, which scripts/web.mjs copies here from the npm package.
export { default } from 'uplot';
