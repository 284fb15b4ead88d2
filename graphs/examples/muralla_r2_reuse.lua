-- The next reel of the same print faded the same way: reuse reel 1's model
-- instead of training again, and render with the delivery settings.
local reel = require "reel"

local src = reel.Read { "scans/r2/src.####.exr", range = {1, 2210} }
local work = reel.Colorspace { reel.Shuffle { src, out = "R=a.R,G=a.G,B=a.B" },
                               in_space = "linear", out_space = "srgb_rec709_ycbcr709_full" }
local ml = reel.Infer { work, model = "models/r1.reelnet" }
local out = reel.Colorspace { ml, in_space = "srgb_rec709_ycbcr709_full", out_space = "aces2065-1" }
return reel.Write { reel.Crop { out, box = {96, 40, 1824, 1000} }, path = "renders/r2_ml.####.exr",
                    compression = "dwaa", pixeltype = "half", colorspace = "aces2065-1" }
