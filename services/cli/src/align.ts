/** Why `--align receptive-field` fell back to resizing (explain and evaluate warn with it). */
export function noGrid(layer: string): string {
  return (
    `the graph does not give layer "${layer}"'s receptive fields (an op on the way resamples ` +
    'or reshapes space, or branches disagree): the CAM is drawn resized like an image'
  );
}
